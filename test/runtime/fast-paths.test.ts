/**
 * The runtime's fast paths against what they replaced: shardflow's own EMF line against Powertools Metrics' document,
 * the exact-number scan against a reference, and provenance views against the plain data they stand for.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { EmfReader } from '../../src/dashboard/emf-reader';
import type { BatchStats } from '../../src/runtime/batch-outcome';
import { createHandler } from '../../src/runtime/handler';
import { inexactJsonNumber } from '../../src/runtime/json-numbers';
import { EmfWriter, METRICS_NAMESPACE, MetricName, addBatchMetrics, addSinkMetrics } from '../../src/runtime/metrics';
import { provenanceData, provenanceOf } from '../../src/runtime/model';
import { decodeRecord, releaseRecord } from '../../src/runtime/normalize';
import { definePipeline } from '../../src/runtime/pipeline';
import type { SinkCounts } from '../../src/runtime/types';
import { dynamodbRecord, kinesisEvent, kinesisRecord, kplAggregateRecord } from '../helpers/factories';
import { captureOutput, capturingOutput } from '../helpers/output';
import { MemoryFaultSink, MemorySink, ScriptedProcessor } from './pipeline-helpers';

/** Powertools `Metrics`, saying whether it writes at all (`isDisabled` is protected). */
class EnabledProbe extends Metrics {
  get enabled(): boolean {
    return !this.isDisabled();
  }
}

type EmfDocument = Record<string, unknown> & { _aws: { Timestamp: number } & Record<string, unknown> };

const STATS: BatchStats = {
  recordsIn: 3,
  records: 3,
  processed: 1,
  unrouted: 0,
  failed: 1,
  skipped: 0,
  deadlineSkipped: 0,
  faulted: 1,
  effects: 2,
  batchItemFailures: 1,
  durationMs: 1.25,
};
const SINK_COUNTS: SinkCounts = { requests: 2, consumedWriteCapacity: 4.5, retries: 0 };

/** The EMF documents `publish` wrote on stdout, without their timestamps. */
async function emfOf(publish: () => void): Promise<EmfDocument[]> {
  const { lines } = await capturingOutput(publish);
  return (lines.filter((line) => '_aws' in line) as EmfDocument[]).map(({ _aws: { Timestamp: _time, ...aws }, ...rest }) => ({ _aws: aws, ...rest }) as EmfDocument);
}

function withEnv<T>(env: Record<string, string | undefined>, action: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  set(env);
  try {
    return action();
  } finally {
    set(saved);
  }
}

describe('EmfWriter: the document Powertools Metrics wrote', () => {
  const services = ['scores', 'a "quoted" \\ name', 'ünïcödé \u2028 \ud800', '', '  '];

  it.each(services.map((service) => [JSON.stringify(service), service]))('writes the same document for service %s', async (_shown, service) => {
    for (const env of [{ POWERTOOLS_SERVICE_NAME: undefined }, { POWERTOOLS_SERVICE_NAME: 'from-env' }, { POWERTOOLS_SERVICE_NAME: '' }]) {
      const [ours] = await emfOf(() => withEnv(env, () => new EmfWriter(METRICS_NAMESPACE, service).publishBatch(STATS, SINK_COUNTS, 5)));
      const [theirs] = await emfOf(() =>
        withEnv(env, () => {
          const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service });
          addBatchMetrics(metrics, STATS, 5);
          addSinkMetrics(metrics, SINK_COUNTS);
          metrics.publishStoredMetrics();
        }),
      );
      expect([env, ours]).toEqual([env, theirs]);
    }
  });

  it('gives the EMF line the service the logs carry, even when the service name is empty', async () => {
    for (const [options, env] of [
      [{ serviceName: '' }, { POWERTOOLS_SERVICE_NAME: undefined }],
      [{}, { POWERTOOLS_SERVICE_NAME: '' }],
    ] as const) {
      const output = captureOutput();
      try {
        const pipeline = definePipeline({ processors: [new ScriptedProcessor('scores')], sinks: [new MemorySink()], faultSink: new MemoryFaultSink() });
        const handler = withEnv(env, () => createHandler(pipeline, { ...options, logger: withEnv(env, () => new Logger({ serviceName: options.serviceName })), logBatchSummary: true }));
        await handler(kinesisEvent([kinesisRecord({ json: { id: 'a' } })]), {} as never);
        const lines = output.lines();
        const emf = lines.find((line) => '_aws' in line)!;
        const summary = lines.find((line) => line.message === 'Batch processed')!;
        // CloudWatch takes no empty dimension value (at least one non-whitespace character).
        expect([env, emf.service]).toEqual([env, summary.service]);
        expect(emf.service).not.toBe('');
        const samples = new EmfReader();
        samples.push(`${JSON.stringify(emf)}\n`);
        expect(samples.end().find((sample) => sample.name === MetricName.RecordsProcessed)).toMatchObject({ service: 'service_undefined', value: 1 });
      } finally {
        output.restore();
      }
    }
  });

  it('follows POWERTOOLS_METRICS_DISABLED and POWERTOOLS_DEV as Powertools does', async () => {
    const cases: Record<string, string | undefined>[] = [
      {},
      { POWERTOOLS_DEV: 'true' },
      { POWERTOOLS_DEV: ' Yes ' },
      { POWERTOOLS_DEV: 'maybe' },
      { POWERTOOLS_DEV: 'true', POWERTOOLS_METRICS_DISABLED: 'false' },
      { POWERTOOLS_METRICS_DISABLED: '1' },
      { POWERTOOLS_METRICS_DISABLED: 'off', POWERTOOLS_DEV: '1' },
    ];
    for (const env of cases) {
      const all = { POWERTOOLS_DEV: undefined, POWERTOOLS_METRICS_DISABLED: undefined, ...env };
      const ours = await emfOf(() => withEnv(all, () => new EmfWriter(METRICS_NAMESPACE, 's').publishBatchError(2, true)));
      // Powertools writes through the global console in dev mode, which Jest replaces: ask it instead.
      const theirs = withEnv(all, () => new EnabledProbe({ namespace: METRICS_NAMESPACE, serviceName: 's' }).enabled);
      expect([env, ours.length === 1]).toEqual([env, theirs]);
    }
  });
});

/** The reference: a number token is exact iff the shortest round trip of its double denotes the same decimal. */
function decimal(token: string): string {
  const [, sign, whole, fraction = '', exponent = '0'] = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token)!;
  let digits = BigInt(`${whole}${fraction}`);
  if (digits === 0n) return '0';
  let scale = BigInt(exponent) - BigInt(fraction.length);
  while (digits % 10n === 0n) {
    digits /= 10n;
    scale += 1n;
  }
  return `${sign}${digits}e${scale}`;
}

function exact(token: string): boolean {
  const value = Number(token);
  return Number.isFinite(value) && decimal(String(value)) === decimal(token);
}

describe('inexactJsonNumber against the reference', () => {
  const token = fc
    .record({
      negative: fc.boolean(),
      whole: fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9]\d{0,30}$/), fc.stringMatching(/^[1-9]0{0,330}$/)),
      fraction: fc.option(fc.oneof(fc.stringMatching(/^\d{1,30}$/), fc.stringMatching(/^0{0,330}[1-9]\d{0,16}$/)), { nil: undefined }),
      exponent: fc.option(
        fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.oneof(fc.integer({ min: 0, max: 400 }).map(String), fc.stringMatching(/^0{0,6}\d{1,4}$/))),
        { nil: undefined },
      ),
    })
    .map(({ negative, whole, fraction, exponent }) => `${negative ? '-' : ''}${whole}${fraction === undefined ? '' : `.${fraction}`}${exponent?.join('') ?? ''}`);
  const space = fc.stringMatching(/^[ \t\n\r]{0,3}$/);
  // Strings full of digits, exponents, escaped quotes and backslashes, and exact long numbers around the token.
  const string = fc.oneof(fc.string(), fc.stringMatching(/^[\d"\\:,[eE.+-]{0,30}$/)).map((text) => JSON.stringify(text));
  const other = fc.oneof(string, fc.constantFrom('1234567890123456', '1.5e-300', '-0', '0.0000000e-999', 'true'));

  it('finds exactly the inexact numbers, wherever JSON puts them', () => {
    fc.assert(
      fc.property(token, space, space, fc.array(fc.tuple(string, other), { maxLength: 3 }), fc.nat(4), (number, before, after, members, shape) => {
        const item = `${before}${number}${after}`;
        const keys = members.map(([key]) => key);
        const pairs = members.map(([key, value]) => `${key}:${value}`);
        const json = [
          item,
          `[${[...keys, item].join(',')}]`,
          `{${[...pairs, `"k":${item}`].join(',')}}`,
          `{${[`"k":${item}`, ...pairs].join(',')}}`,
          `[${[item, ...members.map(([, value]) => value)].join(',')}]`,
        ][shape]!;
        JSON.parse(json);
        expect([json, inexactJsonNumber(json)?.text]).toEqual([json, exact(number) ? undefined : number]);
      }),
      { numRuns: 20_000 },
    );
  });

  it('judges 1 to 17 significant digits at any power a double reaches, and past it', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9]\d{0,16}$/), fc.nat(20), fc.integer({ min: -345, max: 330 }), fc.boolean(), (digits, point, exponent, negative) => {
        const at = Math.min(point, digits.length);
        const number = `${negative ? '-' : ''}${at === 0 ? '0' : digits.slice(0, at)}${at < digits.length ? `.${digits.slice(at)}` : ''}e${exponent}`;
        expect([number, inexactJsonNumber(`{"a":${number}}`)?.text]).toEqual([number, exact(number) ? undefined : number]);
      }),
      { numRuns: 50_000 },
    );
  });
});

describe('provenance views', () => {
  const FIELDS = ['source', 'eventID', 'streamArn', 'shardId', 'partitionKey', 'sequenceNumber', 'subSequenceNumber'] as const;

  it('read and serialize as the plain data, also after the record is released', () => {
    const records = [
      decodeRecord(kinesisRecord({ json: { id: 'a' }, partitionKey: 'P' }), 0),
      decodeRecord(kplAggregateRecord([{ partitionKey: 'u1', data: '{"id":"b"}' }, { partitionKey: 'u2', data: '{"id":"c"}' }]), 1),
      decodeRecord(dynamodbRecord({ eventName: 'MODIFY', keys: { Id: 7 } }), 2),
    ].flat();
    for (const record of records) {
      const view = provenanceOf(record);
      const data = provenanceData(record);
      record.payload.json();
      releaseRecord(record);
      expect(Object.fromEntries(FIELDS.map((field) => [field, view[field]]))).toEqual(data);
      expect(JSON.parse(JSON.stringify({ provenance: view }))).toEqual(JSON.parse(JSON.stringify({ provenance: data })));
    }
  });
});
