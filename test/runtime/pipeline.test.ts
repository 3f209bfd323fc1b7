import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { KinesisStreamRecord } from 'aws-lambda';
import { ErrorCode, ShardflowError } from '../../src/runtime/errors';
import { definePipeline } from '../../src/runtime/pipeline';
import type { PermanentFailure, PipelineOptions } from '../../src/runtime/pipeline-options';
import { RecordKind, RecordSource, type StreamRecord } from '../../src/runtime/model';
import type { AddEffect, Effect, Fault, LogEffect, Processor, RecordEffects, SinkSession } from '../../src/runtime/types';
import { normalizeAll } from '../helpers/normalize';
import { FileFaultSink } from '../../src/sinks/file-faults';
import { jsonText } from '../../src/runtime/json-text';
import { userRecordRaw } from '../../src/runtime/kinesis';
import { normalizeRecord, REDRIVE_FIELD, releaseRecord } from '../../src/runtime/normalize';
import { badInput, readStage } from '../helpers/bad-input';
import {
  dynamodbEvent,
  dynamodbRecord,
  kinesisEvent,
  kinesisRecord,
  kplAggregateRecord,
  rawDynamodbRecord,
} from '../helpers/factories';
import {
  Behaviour,
  CapturingLogger,
  FakeContext,
  MemoryFaultSink,
  MemorySink,
  ScriptedProcessor,
  SessionMemorySink,
  SinkBehaviour,
  addEffect,
  payloadId,
  sinkKinds,
} from './pipeline-helpers';

const quiet = (extra: PipelineOptions = {}): PipelineOptions => ({ logger: new CapturingLogger(), ...extra });

function rec(id: string, partitionKey: string): KinesisStreamRecord {
  return kinesisRecord({ json: { id }, partitionKey });
}

function seq(record: KinesisStreamRecord): string {
  return record.kinesis.sequenceNumber;
}

function ids(response: { batchItemFailures: { itemIdentifier: string }[] }): string[] {
  return response.batchItemFailures.map((f) => f.itemIdentifier);
}

/**
 * A fault keeps its record as delivered, or, for a KPL user record, that user record on its own with its parent's
 * identifiers: it decodes to the same record id, key and data.
 */
function expectKeepsRecord(fault: Fault, raw: unknown): void {
  const sub = fault.provenance.subSequenceNumber;
  if (sub === undefined) {
    // Compared as text: a deep record is deeper than a recursive comparison can go.
    expect(jsonText(fault.raw)).toBe(jsonText(raw));
    return;
  }
  const kept = normalizeAll(fault.raw);
  const original = normalizeAll(raw)[sub]!;
  expect(kept).toHaveLength(1);
  const [alone] = kept as [StreamRecord];
  expect([alone.recordId, alone.partitionKey, alone.sequenceNumber, alone.streamArn]).toEqual([
    fault.recordId,
    original.partitionKey,
    original.sequenceNumber,
    original.streamArn,
  ]);
  expect(alone.recordId).toBe(original.recordId);
  expect(Buffer.from(alone.payload.bytes)).toEqual(Buffer.from(original.payload.bytes));
  expect(jsonText(fault.raw).length).toBeLessThan(jsonText(raw).length + 200);
}

describe('definePipeline: a batch that goes well', () => {
  it('processes every record once, in batch order, and reports nothing', async () => {
    const processor = new ScriptedProcessor('count');
    const sink = new MemorySink();
    const pipeline = definePipeline({ processors: [processor], sinks: [sink], options: quiet() });
    const records = [rec('a', 'k1'), rec('b', 'k2'), rec('c', 'k1')];

    const outcome = await pipeline.run(kinesisEvent(records));

    expect(outcome.response).toEqual({ batchItemFailures: [] });
    expect(processor.calls.map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(sink.batches).toHaveLength(1);
    expect(sink.batches[0]!.map((r) => r.record.recordId)).toEqual(records.map((r) => r.eventID));
    expect(sink.totals).toEqual(new Map([['a', 1], ['b', 1], ['c', 1]]));
    expect(outcome.stats).toMatchObject({ recordsIn: 3, records: 3, processed: 3, failed: 0, skipped: 0, faulted: 0, unrouted: 0, effects: 3 });
  });

  it('runs synchronous processors without awaiting: every record is processed before run() first yields', () => {
    const processor = new ScriptedProcessor('count');
    const pipeline = definePipeline({ processors: [processor], sinks: [new MemorySink()], options: quiet() });
    const pending = pipeline.run(kinesisEvent([rec('a', 'k1'), rec('b', 'k2'), rec('c', 'k3')]));
    // Nothing has been awaited yet: an await per record would leave calls behind here.
    expect(processor.calls).toHaveLength(3);
    return pending;
  });

  it('awaits processors that return promises, and keeps batch order', async () => {
    const processor = new ScriptedProcessor('mixed', {}, (id) => (id === 'b' ? Behaviour.Async : Behaviour.Ok));
    const sink = new MemorySink();
    const pipeline = definePipeline({ processors: [processor], sinks: [sink], options: quiet() });
    const outcome = await pipeline.run(kinesisEvent([rec('a', 'k1'), rec('b', 'k1'), rec('c', 'k1')]));
    expect(ids(outcome.response)).toEqual([]);
    expect(sink.applied).toHaveLength(3);
    expect(sink.batches[0]!.map((r) => payloadId(r.record))).toEqual(['a', 'b', 'c']);
  });

  it('sends a record to every processor that selects it and counts records nobody wants', async () => {
    const all = new ScriptedProcessor('all', { streams: ['Lab-Stream'] });
    const onlyEven = new ScriptedProcessor('even', {
      where: (record) => Number(payloadId(record).slice(1)) % 2 === 0,
    });
    const dynamoOnly = new ScriptedProcessor('ddb', { sources: [RecordSource.DynamoDB] });
    const sink = new MemorySink();
    const pipeline = definePipeline({ processors: [all, onlyEven, dynamoOnly], sinks: [sink], options: quiet() });
    const records = [rec('r1', 'k'), rec('r2', 'k'), kinesisRecord({ json: { id: 'x3' }, streamName: 'Other' })];

    const outcome = await pipeline.run(kinesisEvent(records));

    expect(all.calls.map((c) => c.id)).toEqual(['r1', 'r2']);
    expect(onlyEven.calls.map((c) => c.id)).toEqual(['r2']);
    expect(dynamoOnly.calls).toHaveLength(0);
    expect(outcome.stats).toMatchObject({ processed: 2, unrouted: 1, effects: 3 });
    expect(sink.totals.get('r2')).toBe(2);
    expect(ids(outcome.response)).toEqual([]);
  });

  it('normalizes DynamoDB records and isolates failures by item key', async () => {
    const processor = new ScriptedProcessor(
      'scores',
      { sources: [RecordSource.DynamoDB], kinds: [RecordKind.Insert] },
      (id) => (id === '1' ? Behaviour.Retryable : Behaviour.Ok),
      (record) => String(record.source === RecordSource.DynamoDB ? record.keys.RecordID : undefined),
    );
    const sink = new MemorySink();
    const pipeline = definePipeline({ processors: [processor], sinks: [sink], options: quiet() });
    const insert = (id: number) =>
      dynamodbRecord({ eventName: 'INSERT', viewType: 'NEW_IMAGE', keys: { RecordID: id }, newImage: { RecordID: id, Score: 1 } });
    const records = [insert(1), insert(2), insert(1), insert(3)];

    const outcome = await pipeline.run(dynamodbEvent(records));

    expect(ids(outcome.response)).toEqual([records[0]!.dynamodb!.SequenceNumber, records[2]!.dynamodb!.SequenceNumber]);
    expect(processor.calls.map((c) => c.id)).toEqual(['1', '2', '3']);
    expect(outcome.stats).toMatchObject({ processed: 2, failed: 1, skipped: 1 });
  });
});

describe('failures during processing', () => {
  it('blocks the partition key of a retryable failure for the rest of the batch; other keys go on', async () => {
    const processor = new ScriptedProcessor('p', {}, (id) => (id === 'a2' ? Behaviour.Retryable : Behaviour.Ok));
    const sink = new MemorySink();
    const pipeline = definePipeline({ processors: [processor], sinks: [sink], options: quiet() });
    const records = [rec('a1', 'A'), rec('b1', 'B'), rec('a2', 'A'), rec('b2', 'B'), rec('a3', 'A')];

    const outcome = await pipeline.run(kinesisEvent(records));

    expect(ids(outcome.response)).toEqual([seq(records[2]!), seq(records[4]!)]);
    expect(processor.calls.map((c) => c.id)).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect([...sink.totals.keys()]).toEqual(['a1', 'b1', 'b2']);
    expect(outcome.stats).toMatchObject({ processed: 3, failed: 1, skipped: 1 });
  });

  const recurse = (depth: number): number => (depth === 0 ? 0 : 1 + recurse(depth - 1));
  const overflowing: Processor<Effect> = {
    name: 'p',
    select: {},
    process: (record) => [addEffect(record, String(recurse(payloadId(record) === 'a' ? 10_000_000 : 1)))],
  };
  it.each([
    ['a TypeError', new ScriptedProcessor('p', {}, (id) => (id === 'a' ? Behaviour.Throw : Behaviour.Ok)), /: a test bug\.$/],
    ['a stack overflow', overflowing, /: Maximum call stack size exceeded\.$/],
  ])('captures a record on which a processor throws %s, instead of retrying it for ever, and lets its key go on', async (_name, processor, reason) => {
    const faults = new MemoryFaultSink();
    const sink = new MemorySink();
    const pipeline = definePipeline({ processors: [processor], sinks: [sink], faultSink: faults, options: quiet() });
    const records = [rec('a', 'A'), rec('b', 'A')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual([]);
    expect(sink.applied).toEqual([records[1]!.eventID]);
    expect(faults.faults).toEqual([
      expect.objectContaining({ recordId: records[0]!.eventID, stage: 'p', raw: records[0], error: expect.objectContaining({ code: ErrorCode.ProcessorFailed, retryable: false }) }),
    ]);
    expect(faults.faults[0]!.error.message).toMatch(new RegExp(`^Processor "p" failed on record ${records[0]!.eventID}`));
    expect(faults.faults[0]!.error.message).toMatch(reason);
  });

  it('reports a record for retry when its processor throws a RetryableError', async () => {
    const processor = new ScriptedProcessor('p', {}, (id) => (id === 'a' ? Behaviour.Retryable : Behaviour.Ok));
    const faults = new MemoryFaultSink();
    const pipeline = definePipeline({ processors: [processor], sinks: [new MemorySink()], faultSink: faults, options: quiet() });
    const records = [rec('a', 'A'), rec('b', 'A')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual([seq(records[0]!), seq(records[1]!)]);
    expect(faults.faults).toHaveLength(0);
  });

  it('captures a permanent failure with its raw record and lets its key go on', async () => {
    const processor = new ScriptedProcessor('p', {}, (id) => (id === 'a1' ? Behaviour.Permanent : Behaviour.Ok));
    const faults = new MemoryFaultSink();
    const sink = new MemorySink();
    const pipeline = definePipeline({ processors: [processor], sinks: [sink], faultSink: faults, options: quiet() });
    const records = [rec('a1', 'A'), rec('a2', 'A')];

    const outcome = await pipeline.run(kinesisEvent(records));

    expect(ids(outcome.response)).toEqual([]);
    expect([...sink.totals.keys()]).toEqual(['a2']);
    expect(faults.faults).toHaveLength(1);
    expect(outcome.faults).toEqual(faults.faults);
    const [fault] = faults.faults;
    expect(fault).toMatchObject({
      recordId: records[0]!.eventID,
      position: 0,
      stage: 'p',
      error: { code: ErrorCode.Validation, retryable: false },
      provenance: { sequenceNumber: seq(records[0]!), partitionKey: 'A', source: RecordSource.Kinesis },
    });
    expect(fault!.raw).toBe(records[0]);
    expect(fault!.capturedAt).toBeGreaterThan(0);
    expect(outcome.stats).toMatchObject({ processed: 1, faulted: 1 });
  });

  it("reports permanent failures for retry under onPermanentError: 'retry'", async () => {
    const processor = new ScriptedProcessor('p', {}, (id) => (id === 'a1' ? Behaviour.Permanent : Behaviour.Ok));
    const faults = new MemoryFaultSink();
    const pipeline = definePipeline({
      processors: [processor],
      sinks: [new MemorySink()],
      faultSink: faults,
      options: quiet({ onPermanentError: 'retry' }),
    });
    const records = [rec('a1', 'A'), rec('a2', 'A'), rec('b1', 'B')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual([seq(records[0]!), seq(records[1]!)]);
    expect(faults.faults).toHaveLength(0);
  });

  it('asks an onPermanentError callback per failure, with the stage and record', async () => {
    const seen: PermanentFailure[] = [];
    const processor = new ScriptedProcessor('p', {}, (id) => (id.startsWith('bad') ? Behaviour.Permanent : Behaviour.Ok));
    const faults = new MemoryFaultSink();
    const pipeline = definePipeline({
      processors: [processor],
      sinks: [new MemorySink()],
      faultSink: faults,
      options: quiet({
        onPermanentError: (failure) => {
          seen.push(failure);
          return failure.record !== undefined && payloadId(failure.record) === 'bad-retry' ? 'retry' : 'capture';
        },
      }),
    });
    const records = [rec('bad-retry', 'A'), rec('bad-keep', 'B'), kinesisRecord({ base64: '%%%%', partitionKey: 'C' })];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(seen.map((f) => [f.stage, f.position, f.error.code])).toEqual([
      ['p', 0, ErrorCode.Validation],
      ['p', 1, ErrorCode.Validation],
      ['normalize', 2, ErrorCode.InvalidBase64],
    ]);
    expect(seen[2]!.record).toBeUndefined();
    expect(seen[2]!.raw).toBe(records[2]);
    expect(ids(outcome.response)).toEqual([seq(records[0]!)]);
    expect(faults.faults.map((f) => f.position)).toEqual([1, 2]);
  });

  it('reports permanent failures for retry when no fault sink is configured', async () => {
    const processor = new ScriptedProcessor('p', {}, (id) => (id === 'a1' ? Behaviour.Permanent : Behaviour.Ok));
    const pipeline = definePipeline({ processors: [processor], sinks: [new MemorySink()], options: quiet() });
    const records = [rec('a1', 'A'), rec('a2', 'A'), rec('b1', 'B')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual([seq(records[0]!), seq(records[1]!)]);
    expect(processor.calls.map((c) => c.id)).toEqual(['a1', 'b1']);
  });

  it('reports faults for retry when the fault sink fails, with later records of the same key', async () => {
    const processor = new ScriptedProcessor('p', {}, (id) => (id === 'a1' ? Behaviour.Permanent : Behaviour.Ok));
    const faults = new MemoryFaultSink();
    faults.failWith = new Error('the fault table is gone');
    const logger = new CapturingLogger();
    const pipeline = definePipeline({ processors: [processor], sinks: [new MemorySink()], faultSink: faults, options: { logger } });
    const records = [rec('a1', 'A'), rec('b1', 'B'), rec('a2', 'A')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual([seq(records[0]!), seq(records[2]!)]);
    expect(outcome.faults).toEqual([]);
    expect(outcome.stats).toMatchObject({ processed: 1, failed: 1, skipped: 1, faulted: 0 });
    expect(logger.lines.some((l) => l.level === 'error' && l.message.includes('could not be captured'))).toBe(true);
  });

  it('fails the whole batch when a fault can be neither captured nor reported (no sequence number)', async () => {
    const noSequence = rec('x', 'A') as { kinesis: Partial<KinesisStreamRecord['kinesis']> };
    delete noSequence.kinesis.sequenceNumber;
    const pipeline = definePipeline({ processors: [new ScriptedProcessor('p')], sinks: [new MemorySink()], options: quiet() });
    await expect(pipeline.run(kinesisEvent([rec('a', 'A'), noSequence as KinesisStreamRecord]))).rejects.toMatchObject({
      code: ErrorCode.FaultCaptureFailed,
    });

    const faults = new MemoryFaultSink();
    const withFaults = definePipeline({ processors: [new ScriptedProcessor('p')], sinks: [new MemorySink()], faultSink: faults, options: quiet() });
    const outcome = await withFaults.run(kinesisEvent([noSequence as KinesisStreamRecord]));
    expect(outcome.response.batchItemFailures).toEqual([]);
    expect(faults.faults[0]).toMatchObject({ stage: 'normalize', error: { code: ErrorCode.MissingField } });
  });

  it('discards the effects of every processor when one of them fails the record', async () => {
    const first = new ScriptedProcessor('first');
    const second = new ScriptedProcessor('second', {}, (id) => (id === 'a' ? Behaviour.Retryable : Behaviour.Ok));
    const sink = new MemorySink();
    const pipeline = definePipeline({ processors: [first, second], sinks: [sink], options: quiet() });
    await pipeline.run(kinesisEvent([rec('a', 'A'), rec('b', 'B')]));
    expect(first.calls.map((c) => c.id)).toEqual(['a', 'b']);
    expect([...sink.totals]).toEqual([['b', 2]]);
  });

  it('captures a record whose effect no sink accepts, naming the processor and effect type', async () => {
    const logging: Processor<Effect> = {
      name: 'logs',
      select: {},
      process: (record): LogEffect[] => [
        { type: 'log', level: 'INFO', message: 'seen', fields: {}, provenance: addEffect(record, 'x').provenance },
      ],
    };
    const faults = new MemoryFaultSink();
    const pipeline = definePipeline({ processors: [logging], sinks: [new MemorySink()], faultSink: faults, options: quiet() });
    await pipeline.run(kinesisEvent([rec('a', 'A')]));
    expect(faults.faults[0]).toMatchObject({ stage: 'logs', error: { code: ErrorCode.NoSinkForEffect, retryable: false } });
    expect(faults.faults[0]!.error.message).toContain('"log" effect');
  });

  it('captures a record whose processor returns something other than effects', async () => {
    const broken: Processor<Effect> = {
      name: 'broken',
      select: {},
      process: () => Promise.resolve(undefined as unknown as Effect[]),
    };
    const faults = new MemoryFaultSink();
    const pipeline = definePipeline({ processors: [broken], sinks: [new MemorySink()], faultSink: faults, options: quiet() });
    const records = [rec('a', 'A')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual([]);
    expect(faults.faults[0]!.error).toMatchObject({ code: ErrorCode.ProcessorFailed, message: expect.stringContaining('returned undefined instead of an array') });
  });
});

describe('sequence numbers in the response', () => {
  it('reports an undecodable DynamoDB Local record by its zero-padded sequence number, as the decoder accepts it', async () => {
    const zeroPadded = '000000000000000000973';
    const raw = rawDynamodbRecord({ eventName: 'INSERT', viewType: 'KEYS_ONLY', keys: { Id: { N: 'bad' } }, sequenceNumber: zeroPadded });
    const pipeline = definePipeline({
      processors: [new ScriptedProcessor('p')],
      sinks: [new MemorySink()],
      options: quiet({ onPermanentError: 'retry' }),
    });
    const outcome = await pipeline.run(dynamodbEvent([raw]));
    expect(ids(outcome.response)).toEqual([zeroPadded]);
    expect(outcome.stats).toMatchObject({ records: 1, failed: 1, faulted: 0 });
  });

  it('reports a DynamoDB Local record not started before the deadline by its zero-padded sequence number', async () => {
    const zeroPadded = '000000000000000000974';
    const raw = rawDynamodbRecord({ eventName: 'INSERT', viewType: 'KEYS_ONLY', keys: { Id: { N: '1' } }, sequenceNumber: zeroPadded });
    const processor = new ScriptedProcessor('p', {}, () => Behaviour.Ok, () => 'id');
    const pipeline = definePipeline({ processors: [processor], sinks: [new MemorySink()], options: quiet() });
    const outcome = await pipeline.run(dynamodbEvent([raw]), new FakeContext(0));
    expect(processor.calls).toEqual([]);
    expect(ids(outcome.response)).toEqual([zeroPadded]);
    expect(outcome.stats).toMatchObject({ records: 1, deadlineSkipped: 1 });
  });
});

describe('KPL aggregates', () => {
  it('processes each user record with its own key and reports a failing user record by its parent', async () => {
    const processor = new ScriptedProcessor('p', {}, (id) => (id === 'u2' ? Behaviour.Retryable : Behaviour.Ok));
    const sink = new MemorySink();
    const pipeline = definePipeline({ processors: [processor], sinks: [sink], options: quiet() });
    const aggregate = kplAggregateRecord([
      { partitionKey: 'A', data: JSON.stringify({ id: 'u1' }) },
      { partitionKey: 'B', data: JSON.stringify({ id: 'u2' }) },
      { partitionKey: 'B', data: JSON.stringify({ id: 'u3' }) },
      { partitionKey: 'C', data: JSON.stringify({ id: 'u4' }) },
    ]);
    const after = rec('b-later', 'B');

    const outcome = await pipeline.run(kinesisEvent([aggregate, after]));

    // u3 and b-later wait behind u2; the parent is named once.
    expect(ids(outcome.response)).toEqual([seq(aggregate), seq(after)]);
    expect(processor.calls.map((c) => c.id)).toEqual(['u1', 'u2', 'u4']);
    expect(sink.applied).toEqual([`${aggregate.eventID}#0`, `${aggregate.eventID}#3`]);
    expect(outcome.stats).toMatchObject({ recordsIn: 2, records: 5, processed: 2, failed: 1, skipped: 2 });
  });
});

describe.each(sinkKinds)('sinks: %s', (_kind, SinkClass) => {
  it('gives each sink its own records in batch order and reports a retryable sink failure with later same-key records', async () => {
    const failing = new SinkClass('totals', (record) => (payloadId(record) === 'a1' ? SinkBehaviour.Retryable : SinkBehaviour.Ok));
    const pipeline = definePipeline({ processors: [new ScriptedProcessor('p')], sinks: [failing], options: quiet() });
    const records = [rec('a1', 'A'), rec('b1', 'B'), rec('a2', 'A')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual([seq(records[0]!), seq(records[2]!)]);
    expect(outcome.stats).toMatchObject({ processed: 1, failed: 1, skipped: 1 });
  });

  it('captures records a sink refuses permanently', async () => {
    const sink = new SinkClass('totals', (record) => (payloadId(record) === 'a1' ? SinkBehaviour.Permanent : SinkBehaviour.Ok));
    const faults = new MemoryFaultSink();
    const pipeline = definePipeline({ processors: [new ScriptedProcessor('p')], sinks: [sink], faultSink: faults, options: quiet() });
    const records = [rec('a1', 'A'), rec('a2', 'A')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual([]);
    expect(faults.faults).toEqual([expect.objectContaining({ stage: 'totals', recordId: records[0]!.eventID, raw: records[0] })]);
    expect(outcome.stats).toMatchObject({ processed: 1, faulted: 1 });
  });

  it('fails every record of a sink that throws', async () => {
    const sink = new SinkClass();
    sink.throwOnApply = new Error('socket hang up'); // not a ShardflowError: retryable
    const pipeline = definePipeline({ processors: [new ScriptedProcessor('p')], sinks: [sink], options: quiet() });
    const records = [rec('a', 'A'), rec('b', 'B')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual(records.map(seq));
    expect(outcome.stats).toMatchObject({ processed: 0, failed: 2 });
  });

  it('lets a retry from one sink win over a capture by another', async () => {
    const refusing = new SinkClass('refusing', () => SinkBehaviour.Permanent);
    const throttled = new SinkClass('throttled', () => SinkBehaviour.Retryable);
    const both = new ScriptedProcessor('p');
    const faults = new MemoryFaultSink();
    const pipeline = definePipeline({ processors: [both], sinks: [refusing, throttled], faultSink: faults, options: quiet() });
    const records = [rec('a', 'A')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(refusing.batches).toHaveLength(1);
    expect(throttled.batches).toHaveLength(1);
    expect(ids(outcome.response)).toEqual([seq(records[0]!)]);
    expect(faults.faults).toEqual([]);
  });
});

describe('the inflation budget of a batch', () => {
  // 1,000 bytes of JSON each, gzipped to a few dozen.
  const zipped = (id: string, partitionKey: string) => kinesisRecord({ json: { id, pad: 'x'.repeat(1000 - 18 - id.length) }, partitionKey, gzip: true });

  it('captures the gzip record that would go beyond it, permanently, and lets the rest of the batch go on', async () => {
    const sink = new MemorySink();
    const faults = new MemoryFaultSink();
    const pipeline = definePipeline({
      processors: [new ScriptedProcessor('p')],
      sinks: [sink],
      faultSink: faults,
      options: quiet({ inflationBudgetBytes: 2500 }),
    });
    const records = [zipped('z1', 'A'), zipped('z2', 'A'), rec('plain', 'A'), zipped('z3', 'A'), zipped('z4', 'B')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual([]);
    expect(sink.applied).toEqual([records[0]!.eventID, records[1]!.eventID, records[2]!.eventID]);
    expect(faults.faults.map((fault) => [fault.recordId, fault.error.code, fault.error.retryable])).toEqual([
      [records[3]!.eventID, ErrorCode.InflationBudgetExceeded, false],
      [records[4]!.eventID, ErrorCode.InflationBudgetExceeded, false],
    ]);
    expect(faults.faults[0]!.error.message).toBe(
      `Record ${records[3]!.eventID} cannot be decoded: its gzip payload inflates to more than the 500 bytes left of this ` +
        "batch's inflation budget (2500 bytes for all gzip payloads of a batch).",
    );
    expect(faults.faults[0]!.raw).toBe(records[3]);
  });

  it('charges a payload once, however often it is read, and not at all when no processor reads it', async () => {
    let reads = 0;
    const twice: Processor<Effect> = {
      name: 'twice',
      select: { where: (record) => record.partitionKey !== 'unread' },
      process: (record) => {
        record.payload.json();
        releaseRecord(record);
        reads += 1;
        return [addEffect(record, payloadId(record))];
      },
    };
    const sink = new MemorySink();
    const pipeline = definePipeline({ processors: [twice], sinks: [sink], options: quiet({ inflationBudgetBytes: 2000 }) });
    const records = [zipped('u1', 'unread'), zipped('u2', 'unread'), zipped('r1', 'A'), zipped('r2', 'B')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect([ids(outcome.response), reads, outcome.stats.unrouted]).toEqual([[], 2, 2]);
    expect(sink.applied).toEqual([records[2]!.eventID, records[3]!.eventID]);
  });
});

describe('a broken deployment', () => {
  const deployment = new ShardflowError(ErrorCode.DeploymentError, 'Sink totals cannot write to table Totals (ResourceNotFoundException).');

  it.each(sinkKinds)('fails the whole batch when %s reports a deployment error, and captures nothing', async (_kind, SinkClass) => {
    const sink = new SinkClass('totals');
    sink.throwOnApply = deployment;
    const faults = new MemoryFaultSink();
    const processor = new ScriptedProcessor('p', {}, (id) => (id === 'bad' ? Behaviour.Permanent : Behaviour.Ok));
    const pipeline = definePipeline({ processors: [processor], sinks: [sink], faultSink: faults, options: quiet() });
    await expect(pipeline.run(kinesisEvent([rec('a', 'A'), rec('bad', 'B')]))).rejects.toBe(deployment);
    expect(faults.faults).toEqual([]);
  });

  it('fails the whole batch when the fault sink reports a deployment error', async () => {
    const faults = new MemoryFaultSink();
    faults.failWith = deployment;
    const processor = new ScriptedProcessor('p', {}, () => Behaviour.Permanent);
    const pipeline = definePipeline({ processors: [processor], sinks: [new MemorySink()], faultSink: faults, options: quiet() });
    await expect(pipeline.run(kinesisEvent([rec('a', 'A')]))).rejects.toBe(deployment);
  });
});

describe('sink sessions', () => {
  it('opens one session per batch when the first record for the sink arrives, and flushes it once', async () => {
    const sink = new SessionMemorySink();
    const onlyB = new ScriptedProcessor('p', { where: (record) => payloadId(record).startsWith('b') });
    const pipeline = definePipeline({ processors: [onlyB], sinks: [sink], options: quiet() });
    await pipeline.run(kinesisEvent([rec('a1', 'A')]));
    expect(sink.opened).toBe(0);
    await pipeline.run(kinesisEvent([rec('a2', 'A'), rec('b1', 'B'), rec('b2', 'B')]));
    await pipeline.run(kinesisEvent([rec('b3', 'B')]));
    expect([sink.opened, sink.flushed]).toEqual([2, 2]);
    expect(sink.batches.map((batch) => batch.map((entry) => payloadId(entry.record)))).toEqual([['b1', 'b2'], ['b3']]);
  });

  it('hands a record to the session as soon as its processors are done, before the next record runs', async () => {
    const sink = new SessionMemorySink();
    const seenBySink: number[] = [];
    const processor = new ScriptedProcessor('p');
    processor.onCall.push(() => seenBySink.push(sink.staged()));
    const pipeline = definePipeline({ processors: [processor], sinks: [sink], options: quiet() });
    await pipeline.run(kinesisEvent([rec('a', 'A'), rec('b', 'B'), rec('c', 'C')]));
    expect(seenBySink).toEqual([0, 1, 2]);
  });

  it('fails every record given to a session whose add throws, and never flushes it', async () => {
    const sink = new SessionMemorySink();
    sink.throwOnAdd = new Error('out of buffer space'); // not a ShardflowError: retryable
    const other = new SessionMemorySink('other');
    const pipeline = definePipeline({ processors: [new ScriptedProcessor('p')], sinks: [sink, other], options: quiet() });
    const records = [rec('a', 'A'), rec('b', 'B')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual(records.map(seq));
    expect(outcome.stats).toMatchObject({ processed: 0, failed: 2 });
    expect([sink.opened, sink.flushed, sink.totals.size]).toEqual([1, 0, 0]);
    // The other sink applied them: a retry re-applies idempotently, as with any sink failure.
    expect(other.applied).toEqual(records.map((r) => r.eventID));
  });

  it('fails every record of a sink whose open() returns no session', async () => {
    const sink = new SessionMemorySink();
    sink.open = () => undefined as never;
    const logger = new CapturingLogger();
    const pipeline = definePipeline({ processors: [new ScriptedProcessor('p')], sinks: [sink], options: { logger } });
    const records = [rec('a', 'A')];
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(ids(outcome.response)).toEqual(records.map(seq));
    expect(logger.lines.find((l) => l.message === 'Record reported for retry')?.attributes.error).toMatchObject({
      message: 'Sink "memory" returned no session (add and flush) from open().',
    });
  });

  it('leaves no trace of a session when the invocation fails before the sinks ran', async () => {
    const sink = new SessionMemorySink();
    const processor = new ScriptedProcessor('p', {}, (id) => (id === 'a2' ? Behaviour.Permanent : Behaviour.Ok));
    const pipeline = definePipeline({
      processors: [processor],
      sinks: [sink],
      faultSink: new MemoryFaultSink(),
      options: quiet({ onPermanentError: () => 'drop' as never }),
    });
    await expect(pipeline.run(kinesisEvent([rec('a1', 'A'), rec('a2', 'A')]))).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
    expect([sink.opened, sink.flushed, sink.applied.length, sink.totals.size]).toEqual([1, 0, 0, 0]);
  });

  it('rejects a sink whose open is not a function', () => {
    const sink = new MemorySink() as MemorySink & { open?: unknown };
    sink.open = 'yes';
    expect(() => definePipeline({ processors: [], sinks: [sink as MemorySink] })).toThrow(/sink "memory" has an open that is not a function/);
  });
});

describe('deadline', () => {
  it('stops starting records once the remaining time is below the margin and reports the rest', async () => {
    const processor = new ScriptedProcessor('p');
    const logger = new CapturingLogger();
    const pipeline = definePipeline({
      processors: [processor],
      sinks: [new MemorySink()],
      options: { deadlineMarginMs: 5000, logger },
    });
    const records = [rec('a', 'A'), rec('b', 'B'), rec('c', 'C'), rec('d', 'D')];
    const outcome = await pipeline.run(kinesisEvent(records), new FakeContext(2));
    expect(processor.calls.map((c) => c.id)).toEqual(['a', 'b']);
    expect(ids(outcome.response)).toEqual([seq(records[2]!), seq(records[3]!)]);
    expect(outcome.stats).toMatchObject({ processed: 2, deadlineSkipped: 2 });
    expect(logger.lines.some((l) => l.message.startsWith('Deadline reached'))).toBe(true);
  });

  it('has no deadline without a context and gives processors the remaining time', async () => {
    const seen: number[] = [];
    const processor: Processor<Effect> = {
      name: 'time',
      select: {},
      process: (_record, context) => {
        seen.push(context.remainingTimeMs());
        return [];
      },
    };
    const pipeline = definePipeline({ processors: [processor], sinks: [], options: quiet() });
    await pipeline.run(kinesisEvent([rec('a', 'A')]));
    await pipeline.run(kinesisEvent([rec('b', 'A')]), { getRemainingTimeInMillis: () => 42_000 });
    expect(seen).toEqual([Infinity, 42_000]);
  });
});

describe('configuration errors', () => {
  const base = { processors: [new ScriptedProcessor('p')], sinks: [new MemorySink()] };

  it.each([
    [{ ...base, options: { deadlineMargin: 5 } as unknown as PipelineOptions }, /definePipeline: unknown option "deadlineMargin" \(known: deadlineMarginMs, onPermanentError, inflationBudgetBytes, logger\)/],
    [{ ...base, options: { deadlineMarginMs: -1 } }, /option "deadlineMarginMs" must be a finite number of milliseconds >= 0, got -1/],
    [{ ...base, options: { onPermanentError: 'drop' } as unknown as PipelineOptions }, /option "onPermanentError" must be "capture", "retry" or a function, got "drop"/],
    [{ ...base, sink: [] } as unknown as typeof base, /definePipeline: unknown option "sink"/],
    [{ ...base, sinks: [new MemorySink('same'), new MemorySink('same')] }, /two sinks are named "same"/],
    [{ ...base, sinks: [new MemorySink('p')] }, /processor and sink are both named "p"/],
    [{ ...base, processors: [new ScriptedProcessor('p', { kinds: [] })] }, /Processor "p" has an invalid selector: kinds is empty/],
    [{ ...base, processors: [new ScriptedProcessor('p', { sources: ['aws:sqs'] } as never)] }, /sources holds "aws:sqs"/],
    [{ ...base, processors: [new ScriptedProcessor('p'), new ScriptedProcessor('p')] }, /Two processors are named "p"/],
  ])('rejects %# at construction with a clear INVALID_OPTIONS error', (config, message) => {
    let caught: unknown;
    try {
      definePipeline(config);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ShardflowError);
    expect((caught as ShardflowError).code).toBe(ErrorCode.InvalidOptions);
    expect((caught as ShardflowError).message).toMatch(message);
  });

  it('rejects an event without Records by throwing (the whole batch is retried)', async () => {
    const pipeline = definePipeline({ ...base, options: quiet() });
    await expect(pipeline.run({} as never)).rejects.toMatchObject({ code: ErrorCode.MissingField });
  });

  it('answers an empty batch with an empty list', async () => {
    const pipeline = definePipeline({ ...base, options: quiet() });
    const outcome = await pipeline.run({ Records: [] });
    expect(outcome.response).toEqual({ batchItemFailures: [] });
    expect(outcome.stats.records).toBe(0);
  });
});

describe('bad input: each kind is captured with its full raw record and the rest of the batch is processed', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'shardflow-bad-input-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });
  const goodInsert = (id: number) =>
    rawDynamodbRecord({ eventName: 'INSERT', viewType: 'NEW_IMAGE', keys: { RecordID: { N: String(id) } }, newImage: { RecordID: { N: String(id) }, Score: { N: '5' } } });
  const userRecordsOf = (raw: Record<string, unknown>): number => {
    const result = normalizeRecord(raw, 0);
    return result.ok ? result.records.length : 1;
  };

  it.each(Object.keys(badInput))('%s', async (name) => {
    const bad = badInput[name]!;
    const raw = bad.raw();
    // Reads what a real processor would read for this kind, and adds one per record.
    const reader: Processor<Effect> = {
      name: 'reader',
      select: {},
      process: (record) => {
        readStage(record, bad.stage);
        return [addEffect(record, record.recordId)];
      },
    };
    const kinesis = raw.kinesis as { partitionKey?: unknown } | undefined;
    // The good records share the bad one's key: capturing it must not hold them back.
    const key = typeof kinesis?.partitionKey === 'string' ? kinesis.partitionKey : 'bad';
    const good = raw.eventSource === 'aws:dynamodb' ? [goodInsert(2), goodInsert(3)] : [rec('g1', key), rec('g2', key)];
    const faults = new FileFaultSink({ path: join(directory, `${name.replace(/\W+/g, '-')}.jsonl`) });
    const sink = new MemorySink();
    const pipeline = definePipeline({ processors: [reader], sinks: [sink], faultSink: faults, options: quiet() });

    const outcome = await pipeline.run({ Records: [good[0]!, raw, good[1]!] } as never);

    expect(outcome.response).toEqual({ batchItemFailures: [] });
    const userRecords = userRecordsOf(raw);
    expect(sink.applied).toHaveLength(2 + userRecords - 1);
    const stored = await faults.listFaults();
    expect(stored).toHaveLength(1);
    const [fault] = stored;
    expect(fault).toMatchObject({ position: 1, stage: bad.stage === 'normalize' ? 'normalize' : 'reader', error: { code: bad.code, retryable: false } });
    expectKeepsRecord(fault!, raw);
    expect(fault!.error.message).toContain(fault!.recordId);
    expect(outcome.stats).toMatchObject({ records: 2 + userRecords, processed: 2 + userRecords - 1, faulted: 1 });
  });
});

describe('properties of the batch loop', () => {
  const Key = ['A', 'B', 'C', 'D'] as const;
  interface UserSpec {
    readonly key: string;
    readonly processor: Behaviour;
    readonly sink: SinkBehaviour;
    /** Kinesis data gzipped (inflated when read, within the batch's inflation budget). */
    readonly gzip: boolean;
  }
  type RawSpec =
    | { readonly kind: 'plain'; readonly user: UserSpec }
    | { readonly kind: 'kpl'; readonly users: readonly UserSpec[] }
    | { readonly kind: 'bad'; readonly key: string }
    | { readonly kind: 'noSequence' };
  interface Scenario {
    readonly source: 'kinesis' | 'dynamodb';
    readonly raws: readonly RawSpec[];
    readonly policy: 'capture' | 'retry';
    readonly faultSink: 'none' | 'ok' | 'failing';
    readonly deadlineAfter: number | null;
    /** Whether the sink takes records through a session (`open`) or one `apply`. */
    readonly sessions: boolean;
    /** The pipeline's inflation budget; the default when undefined. */
    readonly inflationBudgetBytes: number | undefined;
    /** Whether the sink cannot reach its table at all (a broken deployment). */
    readonly deployment: boolean;
    /** Whether the sink needs its shard's records without holes (`Sink.stopAtFirstFailure`). */
    readonly stop: boolean;
  }

  const userArb: fc.Arbitrary<UserSpec> = fc.record({
    key: fc.constantFrom(...Key),
    processor: fc.oneof(
      { weight: 10, arbitrary: fc.constant(Behaviour.Ok) },
      { weight: 2, arbitrary: fc.constant(Behaviour.Async) },
      { weight: 1, arbitrary: fc.constantFrom(Behaviour.Retryable, Behaviour.Permanent, Behaviour.Throw) },
    ),
    sink: fc.oneof(
      { weight: 10, arbitrary: fc.constant(SinkBehaviour.Ok) },
      { weight: 1, arbitrary: fc.constantFrom(SinkBehaviour.Retryable, SinkBehaviour.Permanent) },
    ),
    gzip: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  });
  const rawArb = (source: Scenario['source']): fc.Arbitrary<RawSpec> =>
    fc.oneof(
      { weight: 12, arbitrary: userArb.map((user) => ({ kind: 'plain' as const, user })) },
      {
        weight: source === 'kinesis' ? 3 : 0,
        arbitrary: fc.array(userArb, { minLength: 1, maxLength: 4 }).map((users) => ({ kind: 'kpl' as const, users })),
      },
      { weight: 1, arbitrary: fc.constantFrom(...Key).map((key) => ({ kind: 'bad' as const, key })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'noSequence' as const }) },
    );
  const scenarioArb: fc.Arbitrary<Scenario> = fc.constantFrom('kinesis' as const, 'dynamodb' as const).chain((source) =>
    fc.record({
      source: fc.constant(source),
      raws: fc.array(rawArb(source), { maxLength: 24 }),
      policy: fc.constantFrom('capture' as const, 'retry' as const),
      faultSink: fc.constantFrom('none' as const, 'ok' as const, 'failing' as const),
      deadlineAfter: fc.option(fc.nat({ max: 30 }), { freq: 3 }),
      sessions: fc.boolean(),
      inflationBudgetBytes: fc.option(fc.nat({ max: 2000 }), { nil: undefined }),
      deployment: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      stop: fc.boolean(),
    }),
  );
  // About 300 bytes of JSON: a few records exhaust a small inflation budget.
  const userData = (id: string, user: UserSpec): Uint8Array => {
    const json = Buffer.from(JSON.stringify({ id, pad: 'x'.repeat(280) }));
    return user.gzip ? gzipSync(json) : json;
  };

  interface Unit {
    readonly id: string | undefined; // undefined for undecodable records
    readonly key: string | undefined; // the key the runtime sees, when it can see one
    readonly spec: UserSpec | undefined;
    readonly position: number;
  }

  /** Builds the raw batch; returns it with the user records ("units") in batch order. */
  function build(scenario: Scenario): { raws: unknown[]; units: Unit[] } {
    const raws: unknown[] = [];
    const units: Unit[] = [];
    let next = 0;
    const dynamoKey = (key: string) => JSON.stringify([['pk', { S: key }]]);
    for (const spec of scenario.raws) {
      const position = raws.length;
      if (spec.kind === 'plain') {
        const id = `u${next++}`;
        if (scenario.source === 'kinesis') {
          raws.push(kinesisRecord({ data: userData(id, spec.user), partitionKey: spec.user.key }));
          units.push({ id, key: spec.user.key, spec: spec.user, position });
        } else {
          raws.push(dynamodbRecord({ eventName: 'INSERT', viewType: 'NEW_IMAGE', keys: { pk: spec.user.key }, newImage: { pk: spec.user.key, id } }));
          units.push({ id, key: dynamoKey(spec.user.key), spec: spec.user, position });
        }
      } else if (spec.kind === 'kpl') {
        const users = spec.users.map((user) => ({ user, id: `u${next++}` }));
        raws.push(kplAggregateRecord(users.map(({ user, id }) => ({ partitionKey: user.key, data: userData(id, user) }))));
        for (const { user, id } of users) units.push({ id, key: user.key, spec: user, position });
      } else if (spec.kind === 'bad') {
        if (scenario.source === 'kinesis') {
          raws.push(kinesisRecord({ base64: '*not base64*', partitionKey: spec.key }));
          units.push({ id: undefined, key: spec.key, spec: undefined, position });
        } else {
          // INSERT under NEW_IMAGE without a NewImage: undecodable, but its key is readable.
          raws.push(rawDynamodbRecord({ eventName: 'INSERT', viewType: 'NEW_IMAGE', keys: { pk: { S: spec.key } } }));
          units.push({ id: undefined, key: dynamoKey(spec.key), spec: undefined, position });
        }
      } else {
        const raw = scenario.source === 'kinesis' ? kinesisRecord({ json: { id: 'never' } }) : dynamodbRecord({ eventName: 'INSERT', keys: { pk: 'Z' } });
        if ('kinesis' in raw) delete (raw.kinesis as Partial<KinesisStreamRecord['kinesis']>).sequenceNumber;
        else delete raw.dynamodb!.SequenceNumber;
        raws.push(raw);
        units.push({ id: undefined, key: undefined, spec: undefined, position });
      }
    }
    return { raws, units };
  }

  const sequenceOf = (raw: unknown): string | undefined => {
    const r = raw as { kinesis?: { sequenceNumber?: string }; dynamodb?: { SequenceNumber?: string } };
    return r.kinesis?.sequenceNumber ?? r.dynamodb?.SequenceNumber;
  };

  it('reports only batch sequence numbers, processes every unreported record exactly once, keeps per-key order and the deadline', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const { raws, units } = build(scenario);
        const specById = new Map(units.filter((u) => u.id !== undefined).map((u) => [u.id!, u.spec!]));
        const idOf = (record: StreamRecord): string =>
          record.source === RecordSource.Kinesis ? payloadId(record) : String((record.newImage as { id: string }).id);
        const context = scenario.deadlineAfter === null ? undefined : new FakeContext(scenario.deadlineAfter);
        const processor = new ScriptedProcessor('p', {}, (id) => specById.get(id)!.processor, idOf);
        const startedAfterDeadline: string[] = [];
        processor.onCall.push((call) => {
          if (context?.expired === true) startedAfterDeadline.push(call.id);
        });
        const SinkClass = scenario.sessions ? SessionMemorySink : MemorySink;
        const sink = new SinkClass('totals', (record) => specById.get(idOf(record))!.sink);
        if (scenario.deployment) sink.throwOnApply = new ShardflowError(ErrorCode.DeploymentError, 'The totals table does not exist.');
        sink.stopAtFirstFailure = scenario.stop;
        const faultSink = scenario.faultSink === 'none' ? undefined : new MemoryFaultSink();
        if (scenario.faultSink === 'failing') faultSink!.failWith = new Error('fault table unavailable');
        const pipeline = definePipeline({
          processors: [processor],
          sinks: [sink],
          ...(faultSink === undefined ? {} : { faultSink }),
          options: quiet({ onPermanentError: scenario.policy, inflationBudgetBytes: scenario.inflationBudgetBytes }),
        });

        let outcome;
        try {
          outcome = await pipeline.run({ Records: raws } as never, context);
        } catch (error) {
          // Acceptable throws, after which Lambda retries the whole batch:
          if ((error as ShardflowError).code === ErrorCode.DeploymentError) {
            // the sink cannot reach its table: nothing is applied, and no record becomes a fault for it (for a sink
            // that needs no holes, faults of processing are kept before the sinks write);
            expect(scenario.deployment).toBe(true);
            const faults = (faultSink?.faults ?? []).filter((fault) => !scenario.stop || fault.stage === sink.name);
            expect([sink.applied, faults]).toEqual([[], []]);
            return;
          }
          // a fault that can be neither captured nor reported, or, for a sink that needs no holes, one that cannot
          // be captured before the sinks write (then nothing is written).
          expect((error as ShardflowError).code).toBe(ErrorCode.FaultCaptureFailed);
          const stoppedBeforeSinks = scenario.stop && scenario.faultSink === 'failing';
          expect((scenario.raws.some((r) => r.kind === 'noSequence') && scenario.faultSink !== 'ok') || stoppedBeforeSinks).toBe(true);
          if (stoppedBeforeSinks) expect(sink.applied).toEqual([]);
          return;
        }
        expect(scenario.raws.some((r) => r.kind === 'noSequence') && scenario.faultSink !== 'ok').toBe(false);
        if (scenario.deployment) expect(sink.batches).toEqual([]);

        // Identifiers: distinct, non-empty, from this batch.
        const batchSequences = new Set(raws.map(sequenceOf).filter((s): s is string => s !== undefined));
        const reported = ids(outcome.response);
        expect(new Set(reported).size).toBe(reported.length);
        for (const id of reported) {
          expect(typeof id === 'string' && id.length > 0).toBe(true);
          expect(batchSequences.has(id)).toBe(true);
        }
        const reportedSet = new Set(reported);

        // Nothing starts after the deadline.
        expect(startedAfterDeadline).toEqual([]);

        const calls = new Map<string, number>();
        for (const call of processor.calls) calls.set(call.id, (calls.get(call.id) ?? 0) + 1);
        const applied = new Map<string, number>();
        for (const recordId of sink.applied) applied.set(recordId, (applied.get(recordId) ?? 0) + 1);
        const captured = faultSink?.faults ?? [];
        if (scenario.faultSink !== 'ok') expect(captured).toEqual([]);
        expect(outcome.faults).toEqual(captured);

        // Per-key order: once a record of a key failed in processing (and was not captured), no later record of
        // that key ran; of any key, for a sink that needs no holes.
        const retryPermanent = scenario.policy === 'retry' || scenario.faultSink === 'none';
        const blocked = new Set<string>();
        for (const unit of units) {
          const ran = unit.id !== undefined && calls.has(unit.id);
          if (unit.key !== undefined && blocked.has(unit.key)) expect(ran).toBe(false);
          if (scenario.stop && blocked.size > 0) expect(ran).toBe(false);
          if (unit.key === undefined) continue;
          if (unit.spec === undefined) {
            if (retryPermanent) blocked.add(unit.key);
          } else if (ran) {
            const b = unit.spec.processor;
            // A processor is pure: whatever it throws is permanent, except a RetryableError.
            if (b === Behaviour.Retryable || ((b === Behaviour.Permanent || b === Behaviour.Throw) && retryPermanent)) blocked.add(unit.key);
          }
        }

        // Every record is applied, reported or captured; unreported ones were processed exactly once.
        const capturedAt = new Map<string, number>();
        for (const fault of captured) capturedAt.set(`${fault.position}/${fault.recordId}`, (capturedAt.get(`${fault.position}/${fault.recordId}`) ?? 0) + 1);
        for (const fault of captured) expectKeepsRecord(fault, raws[fault.position]);
        const recordIdsOf = (position: number): string[] => {
          const raw = raws[position] as { eventID: string };
          const aggregate = scenario.raws[position]!;
          return aggregate.kind === 'kpl' ? aggregate.users.map((_u, i) => `${raw.eventID}#${i}`) : [raw.eventID];
        };
        const recordIdOf = (unit: Unit): string => recordIdsOf(unit.position)[units.filter((u) => u.position === unit.position).indexOf(unit)]!;
        const isReportedAt = (position: number): boolean => reportedSet.has(sequenceOf(raws[position]) ?? '');
        units.forEach((unit) => {
          const isReported = isReportedAt(unit.position);
          const recordId = recordIdOf(unit);
          const timesCaptured = capturedAt.get(`${unit.position}/${recordId}`) ?? 0;
          const timesApplied = applied.get(recordId) ?? 0;
          expect(timesCaptured).toBeLessThanOrEqual(1);
          expect(timesApplied).toBeLessThanOrEqual(1);
          if (unit.id !== undefined) expect(calls.get(unit.id) ?? 0).toBeLessThanOrEqual(1);
          if (isReported) {
            // A plain record is never both reported and captured.
            if (scenario.raws[unit.position]!.kind !== 'kpl') expect(timesCaptured).toBe(0);
            return;
          }
          if (unit.id !== undefined && timesCaptured === 0) expect(calls.get(unit.id)).toBe(1);
          expect(timesCaptured + timesApplied).toBe(1);
        });

        // A sink that needs no holes: what is applied and acknowledged all comes before the first record reported.
        if (scenario.stop) {
          const firstReported = raws.findIndex((_raw, position) => isReportedAt(position));
          const acknowledgedAfter = units.filter((unit) => firstReported !== -1 && unit.position > firstReported && applied.has(recordIdOf(unit)) && !isReportedAt(unit.position));
          expect(acknowledgedAfter).toEqual([]);
        }

        const s = outcome.stats;
        expect(s.processed + s.unrouted + s.failed + s.skipped + s.deadlineSkipped + s.faulted).toBe(s.records);
        // KPL aggregates count per user record once decoded; one not started before the deadline counts once.
        if (context?.expired !== true) expect(s.records).toBe(units.length);
        expect(s.records).toBeGreaterThanOrEqual(raws.length);
        expect(s.records).toBeLessThanOrEqual(units.length);
        expect(s.recordsIn).toBe(raws.length);
        expect(s.faulted).toBe(captured.length);
        expect(s.batchItemFailures).toBe(reported.length);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
    );
  });
});

describe('a sink that stops at its first failure is told of the faults before they are kept', () => {
  /** Sums in memory through a session that records what `beforeFaults` was given, and when. */
  class CheckpointLikeSink extends MemorySink {
    override readonly stopAtFirstFailure = true;
    readonly events: string[] = [];
    failBeforeFaults: unknown = undefined;

    constructor(private readonly faultSink: MemoryFaultSink) {
      super('checkpoint-like');
    }

    open(): SinkSession<AddEffect> {
      const entries: RecordEffects<AddEffect>[] = [];
      return {
        add: (record, effects) => void entries.push({ record, effects }),
        beforeFaults: async (faults) => {
          this.events.push(`told of ${faults.map((fault) => fault.recordId).join(', ')} with ${this.faultSink.faults.length} kept`);
          if (this.failBeforeFaults !== undefined) throw this.failBeforeFaults;
        },
        flush: () => this.apply(entries),
      };
    }
  }

  const processor = new ScriptedProcessor('scores', {}, (id) => (id.startsWith('bad') ? Behaviour.Permanent : Behaviour.Ok));

  it('gets the faults of processing, not those of redriven records, before the fault sink keeps them', async () => {
    const faults = new MemoryFaultSink();
    const sink = new CheckpointLikeSink(faults);
    const records = [rec('good', 'a'), rec('bad-1', 'b'), { ...rec('bad-2', 'c'), [REDRIVE_FIELD]: ['scores'] }];
    const pipeline = definePipeline({ processors: [processor], sinks: [sink], faultSink: faults, options: quiet() });
    const outcome = await pipeline.run(kinesisEvent(records));
    expect(outcome.response.batchItemFailures).toEqual([]);
    expect(sink.events).toEqual([`told of ${records[1]!.eventID} with 0 kept`]);
    expect(faults.faults.map((fault) => fault.recordId)).toEqual([records[1]!.eventID, records[2]!.eventID]);
    expect(sink.applied).toEqual([records[0]!.eventID]);
  });

  it('fails the whole batch, keeping no fault and writing nothing, when it throws', async () => {
    const faults = new MemoryFaultSink();
    const sink = new CheckpointLikeSink(faults);
    sink.failBeforeFaults = new ShardflowError(ErrorCode.FaultCaptureFailed, 'The checkpoint could not note the faults.');
    const pipeline = definePipeline({ processors: [processor], sinks: [sink], faultSink: faults, options: quiet() });
    await expect(pipeline.run(kinesisEvent([rec('good', 'a'), rec('bad', 'b')]))).rejects.toThrow('The checkpoint could not note the faults.');
    expect(faults.faults).toEqual([]);
    expect(sink.applied).toEqual([]);
  });
});

describe('a KPL user record delivered on its own (a redriven fault)', () => {
  it('is reported for retry when a sink fails it, like any other record', async () => {
    const aggregate = kplAggregateRecord([
      { partitionKey: 'a', data: JSON.stringify({ id: 'u0' }) },
      { partitionKey: 'b', data: JSON.stringify({ id: 'u1' }) },
    ]);
    const decoded = normalizeRecord(aggregate, 0);
    if (!decoded.ok) throw new Error('the aggregate must decode');
    // As a fault keeps it: the parent record whose data is an aggregate of that user record, sub-sequence number 1.
    const alone = userRecordRaw(decoded.records[1] as Parameters<typeof userRecordRaw>[0]) as KinesisStreamRecord;
    const sink = new MemorySink('memory', () => SinkBehaviour.Retryable);
    const pipeline = definePipeline({ processors: [new ScriptedProcessor('scores')], sinks: [sink], options: quiet() });
    const outcome = await pipeline.run(kinesisEvent([alone]));
    expect(ids(outcome.response)).toEqual([seq(aggregate)]);
    expect(outcome.stats).toMatchObject({ failed: 1 });
  });
});
