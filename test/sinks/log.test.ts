import { Logger } from '@aws-lambda-powertools/logger';
import type { LogEffect, LogLevel, RecordEffects } from '../../src/runtime/types';
import { LogSink, type LogSinkLogger } from '../../src/sinks/log';
import { capturingOutput } from '../helpers/output';
import { add, kinesisRecord } from '../helpers/records';

function logEffect(record: ReturnType<typeof kinesisRecord>, level: LogLevel, message: string, fields: Record<string, unknown>): LogEffect {
  return { type: 'log', provenance: add(record, 't', { k: 1 }, {}).provenance, level, message, fields };
}

class RecordingLogger implements LogSinkLogger {
  readonly lines: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
  debug(message: string, attributes: Record<string, unknown>): void {
    this.lines.push({ level: 'debug', message, attributes });
  }
  info(message: string, attributes: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, attributes });
  }
  warn(message: string, attributes: Record<string, unknown>): void {
    if (attributes.explode === true) throw new Error('The log stream is closed.');
    this.lines.push({ level: 'warn', message, attributes });
  }
}

describe('LogSink', () => {
  it('accepts log effects only', () => {
    const record = kinesisRecord({ sequence: 1 });
    const sink = new LogSink({ logger: new RecordingLogger() });
    expect(sink.accepts(logEffect(record, 'INFO', 'm', {}))).toBe(true);
    expect(sink.accepts(add(record, 't', { k: 1 }, { n: 1 }))).toBe(false);
  });

  it('writes one line per effect at its level, with the fields and the record provenance', async () => {
    const logger = new RecordingLogger();
    const sink = new LogSink({ logger });
    const a = kinesisRecord({ sequence: 1 });
    const b = kinesisRecord({ sequence: 2, sub: 3 });
    const batch: RecordEffects<LogEffect>[] = [
      {
        record: a,
        effects: [logEffect(a, 'INFO', 'Kinesis record', { data: { Username: 'Jane Doe' } }), logEffect(a, 'DEBUG', 'detail', {})],
      },
      { record: b, effects: [logEffect(b, 'WARN', 'odd record', { reason: 'x' })] },
    ];
    expect(await sink.apply(batch)).toEqual({ failed: [] });
    expect(logger.lines.map(({ level, message }) => [level, message])).toEqual([
      ['info', 'Kinesis record'],
      ['debug', 'detail'],
      ['warn', 'odd record'],
    ]);
    expect(logger.lines[0]?.attributes).toEqual({
      data: { Username: 'Jane Doe' },
      record: {
        recordId: a.recordId,
        source: 'aws:kinesis',
        streamArn: a.streamArn,
        shardId: a.shardId,
        partitionKey: a.partitionKey,
        sequenceNumber: a.sequenceNumber,
        subSequenceNumber: undefined,
      },
    });
    expect(logger.lines[2]?.attributes.record).toMatchObject({ recordId: `${b.eventID}#3`, subSequenceNumber: 3 });
  });

  /** Logs a bad line for record a and a fine one for record b. */
  async function applyBadThenFine(sink: LogSink, level: LogLevel, message: string, fields: Record<string, unknown>) {
    const a = kinesisRecord({ sequence: 1 });
    const b = kinesisRecord({ sequence: 2 });
    const result = await sink.apply([
      { record: a, effects: [logEffect(a, level, message, fields)] },
      { record: b, effects: [logEffect(b, 'INFO', 'Flat record', {})] },
    ]);
    expect(result.failed.map((failure) => failure.recordId)).toEqual([a.recordId]);
    return { result, a };
  }

  it('fails only the record whose line the logger could not write', async () => {
    const { result, a } = await applyBadThenFine(new LogSink({ logger: new RecordingLogger() }), 'WARN', 'boom', { explode: true });
    expect(result.failed[0]?.error).toMatchObject({
      retryable: true,
      message: `Sink log could not log record ${a.recordId} (The log stream is closed.).`,
    });
  });

  it('fails a record whose fields nest too deep to log, permanently, and logs the others', async () => {
    let deep: Record<string, unknown> = {};
    for (let level = 0; level < 50_000; level++) deep = { deeper: deep };
    const { lines } = await capturingOutput(async () => {
      const { result, a } = await applyBadThenFine(new LogSink({ logger: new Logger({ serviceName: 'orders' }) }), 'INFO', 'Deep record', { data: deep });
      expect(result.failed[0]?.error).toMatchObject({
        code: 'NESTING_TOO_DEEP',
        retryable: false,
        message: `Sink log cannot log record ${a.recordId}: the fields of its log line "Deep record" nest deeper than 128 levels.`,
      });
    });
    expect(lines.map((line) => line.message)).toEqual(['Flat record']);
  });

  it('writes structured JSON through a Powertools Logger', async () => {
    const { lines } = await capturingOutput(() => {
      const record = kinesisRecord({ sequence: 5 });
      const sink = new LogSink({ logger: new Logger({ serviceName: 'orders' }) });
      return sink.apply([{ record, effects: [logEffect(record, 'INFO', 'Orders record', { keys: { Id: 1, Amount: 25 } })] }]);
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'INFO', message: 'Orders record', service: 'orders', keys: { Id: 1, Amount: 25 } });
    expect(lines[0]?.record).toMatchObject({ source: 'aws:kinesis', sequenceNumber: expect.any(String) });
  });
});
