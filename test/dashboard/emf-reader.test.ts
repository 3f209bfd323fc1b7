import { EmfReader, UNKNOWN_SERVICE, readMetricFiles } from '../../src/dashboard/emf-reader';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emfText, handlerOutput } from './handler-metrics';

const read = (text: string) => {
  const reader = new EmfReader();
  reader.readText(text);
  return reader.end();
};

describe('EmfReader', () => {
  let lines: Record<string, unknown>[];
  let raw: string;
  beforeAll(async () => {
    lines = await handlerOutput('reader', 6);
    raw = emfText(lines);
  });

  it('reads every value of every shardflow metric, with its time and service, and skips log lines', () => {
    const everything = lines.map((line) => JSON.stringify(line)).join('\n');
    const samples = read(everything);
    const documents = lines.filter((line) => '_aws' in line) as { _aws: { Timestamp: number; CloudWatchMetrics: { Metrics: { Name: string }[] }[] } }[];
    const expected = documents.flatMap((document) =>
      document._aws.CloudWatchMetrics[0]!.Metrics.map(({ Name }) => ({ time: document._aws.Timestamp, service: 'reader', name: Name, value: (document as unknown as Record<string, number>)[Name] })),
    );
    expect(samples).toEqual(expected);
  });

  it('reads the same samples from a CloudWatch Logs export, Lambda\'s JSON log format and the Logs API\'s JSON', () => {
    const samples = read(raw);
    const texts = raw.split('\n');
    const s3Export = texts.map((text) => `2026-03-01T12:00:00.000Z ${text}`).join('\n');
    const jsonFormat = texts.map((text) => JSON.stringify({ time: '2026-03-01T12:00:00.000Z', type: 'function', message: text })).join('\n');
    const logsApi = JSON.stringify({ events: texts.map((text, index) => ({ timestamp: index, message: `${text}\n`, ingestionTime: index })) }, null, 2);
    for (const text of [s3Export, jsonFormat, logsApi]) expect(read(text)).toEqual(samples);
  });

  it('reads lines split across chunks once they are whole', () => {
    const reader = new EmfReader();
    for (let start = 0; start < raw.length; start += 7) reader.push(raw.slice(start, start + 7));
    expect(reader.end()).toEqual(read(raw));
  });

  it('keeps every value of a metric given as an array, ignores other namespaces, and names a missing service', () => {
    const document = (namespace: string, extra: Record<string, unknown>) =>
      JSON.stringify({ _aws: { Timestamp: 5, CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [[]], Metrics: [{ Name: 'RecordsIn' }] }] }, ...extra });
    expect(read([document('shardflow', { RecordsIn: [1, 2, 'x'] }), document('other', { RecordsIn: 9, service: 'a' })].join('\n'))).toEqual([
      { time: 5, service: UNKNOWN_SERVICE, name: 'RecordsIn', value: 1 },
      { time: 5, service: UNKNOWN_SERVICE, name: 'RecordsIn', value: 2 },
    ]);
  });

  it('reads files in order', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'shardflow-emf-'));
    try {
      const [first, second] = raw.split('\n');
      writeFileSync(join(folder, 'a.log'), `starting\n${first}\n`);
      writeFileSync(join(folder, 'b.log'), `${second}`);
      expect(await readMetricFiles([join(folder, 'a.log'), join(folder, 'b.log')])).toEqual(read(`${first}\n${second}`));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
