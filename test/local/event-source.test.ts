import fc from 'fast-check';
import type { DynamoDBRecord, KinesisStreamRecord } from 'aws-lambda';
import type { StreamEvent, StreamHandler } from '../../src/runtime/types';
import { ShardflowError } from '../../src/runtime/errors';
import { compareSequenceNumbers, type PartialBatchResponse } from '../../src/runtime/model';
import {
  batchInfo,
  EventSourceMapping,
  InvocationOutcome,
  type InvocationReport,
  type OnFailureRecord,
} from '../../src/local/event-source';
import { recordPosition } from '../../src/local/lambda-records';
import { kinesisRecord as factoryKinesisRecord, kinesisStreamArn } from '../helpers/factories';

const STREAM_NAME = 'Toy';
const STREAM_ARN = kinesisStreamArn(STREAM_NAME);
const SHARD = 'shardId-000000000007';

function kinesisRecord(sequenceNumber: string, arrivalSeconds = 1_700_000_000.25): KinesisStreamRecord {
  return factoryKinesisRecord({
    sequenceNumber,
    arrivalSeconds,
    shardId: SHARD,
    streamName: STREAM_NAME,
    partitionKey: `key-${sequenceNumber}`,
    json: { n: sequenceNumber },
  });
}

function kinesisEvent(sequenceNumbers: readonly string[]): StreamEvent {
  return { Records: sequenceNumbers.map((sequenceNumber) => kinesisRecord(sequenceNumber)) };
}

function sequencesOf(event: StreamEvent): string[] {
  return event.Records.map((record) => recordPosition(record).sequenceNumber ?? '?');
}

/** A handler that records what it saw and answers with whatever `respond` returns or throws. */
function toyHandler(respond: (sequences: string[], call: number) => unknown): { handler: StreamHandler; calls: string[][] } {
  const calls: string[][] = [];
  const handler: StreamHandler = async (event) => {
    const sequences = sequencesOf(event);
    calls.push(sequences);
    return respond(sequences, calls.length) as PartialBatchResponse;
  };
  return { handler, calls };
}

const failures = (...identifiers: string[]) => ({ batchItemFailures: identifiers.map((itemIdentifier) => ({ itemIdentifier })) });

describe('EventSourceMapping', () => {
  it('invokes once and checkpoints at the last record when the batch succeeds', async () => {
    const { handler, calls } = toyHandler(() => ({ batchItemFailures: [] }));
    const checkpoints: string[] = [];
    const result = await new EventSourceMapping(handler).deliver(kinesisEvent(['1', '2', '3']), {
      onCheckpoint: (sequenceNumber) => {
        checkpoints.push(sequenceNumber);
      },
    });
    expect(calls).toEqual([['1', '2', '3']]);
    expect(checkpoints).toEqual(['3']);
    expect(result).toMatchObject({ records: 3, invocations: 1, batchItemFailures: 0, functionErrors: 0, onFailure: [] });
  });

  it('re-delivers from the lowest failed sequence number, compared as integers, including later successes', async () => {
    const { handler, calls } = toyHandler((_sequences, call) => (call === 1 ? failures('10', '9') : undefined));
    const checkpoints: string[] = [];
    const result = await new EventSourceMapping(handler).deliver(kinesisEvent(['8', '9', '10', '11']), {
      onCheckpoint: (sequenceNumber) => {
        checkpoints.push(sequenceNumber);
      },
    });
    expect(calls).toEqual([
      ['8', '9', '10', '11'],
      ['9', '10', '11'],
    ]);
    expect(checkpoints).toEqual(['8', '11']);
    expect(result.batchItemFailures).toBe(2);
  });

  it.each([
    ['null', null],
    ['an empty object', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('treats %s as success', async (_name, response) => {
    const { handler, calls } = toyHandler(() => response);
    const result = await new EventSourceMapping(handler).deliver(kinesisEvent(['1', '2']));
    expect(calls).toHaveLength(1);
    expect(result.functionErrors).toBe(0);
  });

  it.each([
    ['an empty identifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null identifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a misnamed key', { batchItemFailures: [{ itemIdentifer: '2' }] }],
    ['an identifier outside the batch', { batchItemFailures: [{ itemIdentifier: '99' }] }],
    ['a list that is not a list', { batchItemFailures: '2' }],
  ])('fails the whole batch on %s', async (_name, response) => {
    const { handler, calls } = toyHandler((_sequences, call) => (call === 1 ? response : undefined));
    const reports: InvocationReport[] = [];
    const result = await new EventSourceMapping(handler).deliver(kinesisEvent(['1', '2', '3']), {
      onInvocation: (report) => reports.push(report),
    });
    expect(calls).toEqual([
      ['1', '2', '3'],
      ['1', '2', '3'],
    ]);
    expect(result.functionErrors).toBe(1);
    expect(reports[0].outcome).toBe(InvocationOutcome.Error);
  });

  it('retries a throwing batch maxRetries times, then writes the on-failure record Lambda would send', async () => {
    const { handler, calls } = toyHandler(() => {
      throw new Error('boom');
    });
    const sent: OnFailureRecord[] = [];
    const checkpoints: string[] = [];
    const event: StreamEvent = {
      Records: [kinesisRecord('100', 1_700_000_000.5), kinesisRecord('200', 1_700_000_001.75)],
    };
    const result = await new EventSourceMapping(handler, { functionName: 'toy', region: 'eu-west-1' }).deliver(event, {
      onFailure: (record) => {
        sent.push(record);
      },
      onCheckpoint: (sequenceNumber) => {
        checkpoints.push(sequenceNumber);
      },
    });
    expect(calls).toHaveLength(4);
    expect(checkpoints).toEqual(['200']);
    expect(result.onFailure).toEqual(sent);
    expect(sent).toEqual([
      {
        requestContext: {
          requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          functionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:toy',
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: 4,
        },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        version: '1.0',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        KinesisBatchInfo: {
          shardId: SHARD,
          startSequenceNumber: '100',
          endSequenceNumber: '200',
          approximateArrivalOfFirstRecord: '2023-11-14T22:13:20.500Z',
          approximateArrivalOfLastRecord: '2023-11-14T22:13:21.750Z',
          batchSize: 2,
          streamArn: STREAM_ARN,
        },
      },
    ]);
  });

  it('gives up on the records from the lowest failure on when partial responses exhaust the retries', async () => {
    const { handler, calls } = toyHandler(() => failures('3'));
    const result = await new EventSourceMapping(handler, { maxRetries: 1 }).deliver(kinesisEvent(['1', '2', '3', '4']));
    expect(calls).toEqual([
      ['1', '2', '3', '4'],
      ['3', '4'],
    ]);
    expect(result.onFailure).toHaveLength(1);
    const [record] = result.onFailure;
    expect(record.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST' });
    expect('KinesisBatchInfo' in record && record.KinesisBatchInfo).toMatchObject({
      startSequenceNumber: '3',
      endSequenceNumber: '4',
      batchSize: 2,
    });
    expect(record.requestContext.approximateInvokeCount).toBe(2);
  });

  it('bisects a failing batch down to the poison record without spending retries on the splits', async () => {
    const { handler, calls } = toyHandler((sequences) => {
      if (sequences.includes('3')) throw new Error('poison');
      return undefined;
    });
    const checkpoints: string[] = [];
    const result = await new EventSourceMapping(handler, { bisectBatchOnFunctionError: true, maxRetries: 2 }).deliver(
      kinesisEvent(['1', '2', '3', '4']),
      {
        onCheckpoint: (sequenceNumber) => {
          checkpoints.push(sequenceNumber);
        },
      },
    );
    expect(calls).toEqual([['1', '2', '3', '4'], ['1', '2'], ['3', '4'], ['3'], ['3'], ['3'], ['4']]);
    expect(checkpoints).toEqual(['2', '3', '4']);
    expect(result.onFailure).toHaveLength(1);
    const [record] = result.onFailure;
    expect('KinesisBatchInfo' in record && record.KinesisBatchInfo).toMatchObject({
      startSequenceNumber: '3',
      endSequenceNumber: '3',
      batchSize: 1,
    });
    expect(record.requestContext.approximateInvokeCount).toBe(5);
  });

  it('reports a DynamoDB batch with DDBStreamBatchInfo and the shard it was told', async () => {
    const ddbRecord = (sequenceNumber: string): DynamoDBRecord => ({
      eventID: `event-${sequenceNumber}`,
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2024-01-01T00:00:00.000',
      dynamodb: {
        ApproximateCreationDateTime: 1_700_000_000,
        Keys: { ID: { S: sequenceNumber } },
        SequenceNumber: sequenceNumber,
        SizeBytes: 10,
        StreamViewType: 'KEYS_ONLY',
      },
    });
    const { handler } = toyHandler(() => {
      throw new Error('down');
    });
    const result = await new EventSourceMapping(handler, { maxRetries: 0 }).deliver(
      { Records: [ddbRecord('000000000000000000011'), ddbRecord('000000000000000000012')] },
      { shardId: 'shardId-00000001700000000000-abcdef01' },
    );
    expect(result.onFailure).toHaveLength(1);
    const [record] = result.onFailure;
    expect('DDBStreamBatchInfo' in record && record.DDBStreamBatchInfo).toEqual({
      shardId: 'shardId-00000001700000000000-abcdef01',
      startSequenceNumber: '000000000000000000011',
      endSequenceNumber: '000000000000000000012',
      approximateArrivalOfFirstRecord: '2023-11-14T22:13:20Z',
      approximateArrivalOfLastRecord: '2023-11-14T22:13:20Z',
      batchSize: 2,
      streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2024-01-01T00:00:00.000',
    });
  });

  it('gives the handler a context that counts down from the timeout and fails an invocation that outlives it', async () => {
    const seen: { remaining: number; name: string }[] = [];
    const handler: StreamHandler = async (_event, context) => {
      seen.push({ remaining: context.getRemainingTimeInMillis(), name: context.functionName });
      if (seen.length === 1) {
        // Outlive the timeout by construction (timers never fire early), whatever the machine's load.
        while (context.getRemainingTimeInMillis() > 0) await new Promise((resolve) => setTimeout(resolve, 5));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return { batchItemFailures: [] };
    };
    const reports: InvocationReport[] = [];
    const result = await new EventSourceMapping(handler, { timeoutMs: 50, functionName: 'clock' }).deliver(kinesisEvent(['1']), {
      onInvocation: (report) => reports.push(report),
    });
    expect(seen[0].remaining).toBeGreaterThan(0);
    expect(seen[0].remaining).toBeLessThanOrEqual(50);
    expect(seen[0].name).toBe('clock');
    expect(reports.map((report) => report.outcome)).toEqual([InvocationOutcome.Error, InvocationOutcome.Success]);
    expect(reports[0].error).toMatch(/timed out/);
    expect(result.invocations).toBe(2);
  });

  it('gives each invocation a fresh copy of the event', async () => {
    const handler: StreamHandler = async (event) => {
      const sequences = sequencesOf(event);
      event.Records.length = 0;
      return failures(sequences[sequences.length - 1]);
    };
    const result = await new EventSourceMapping(handler, { maxRetries: 1 }).deliver(kinesisEvent(['1', '2']));
    expect(result.invocations).toBe(2);
  });

  it('rejects unknown and invalid options', () => {
    const handler: StreamHandler = async () => ({ batchItemFailures: [] });
    expect(() => new EventSourceMapping(handler, { retries: 3 } as never)).toThrow(ShardflowError);
    expect(() => new EventSourceMapping(handler, { maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => new EventSourceMapping(handler, { timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('ends every record applied at least once or inside an on-failure record (property)', async () => {
    const scenario = fc.record({
      size: fc.integer({ min: 1, max: 12 }),
      poison: fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { maxLength: 3 }),
      // Per record: how many invocations containing it fail transiently before it succeeds.
      flaky: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 12, maxLength: 12 }),
      mode: fc.constantFrom('throw', 'report-failed', 'report-failed-and-rest'),
      bisect: fc.boolean(),
      maxRetries: fc.integer({ min: 0, max: 3 }),
      base: fc.bigInt({ min: 1n, max: 10n ** 30n }),
      gap: fc.integer({ min: 1, max: 1000 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const sequences = Array.from({ length: s.size }, (_, index) => (s.base + BigInt(index * s.gap)).toString());
        const poison = new Set(s.poison.filter((index) => index < s.size).map((index) => sequences[index]));
        const remainingFlakes = new Map(sequences.map((sequence, index) => [sequence, s.flaky[index]]));
        const applied = new Map<string, number>();
        const handler: StreamHandler = async (event) => {
          const batch = sequencesOf(event);
          const failed: string[] = [];
          for (const sequence of batch) {
            const flakes = remainingFlakes.get(sequence) ?? 0;
            if (poison.has(sequence) || flakes > 0) {
              remainingFlakes.set(sequence, Math.max(0, flakes - 1));
              failed.push(sequence);
              if (s.mode === 'throw') throw new Error(`record ${sequence} failed`);
              if (s.mode === 'report-failed-and-rest') {
                return failures(...batch.slice(batch.indexOf(sequence)));
              }
              continue;
            }
            applied.set(sequence, (applied.get(sequence) ?? 0) + 1);
          }
          return failures(...failed);
        };
        const checkpoints: string[] = [];
        const result = await new EventSourceMapping(handler, {
          bisectBatchOnFunctionError: s.bisect,
          maxRetries: s.maxRetries,
        }).deliver(kinesisEvent(sequences), {
          onCheckpoint: (sequenceNumber) => {
            checkpoints.push(sequenceNumber);
          },
        });
        const inFailureRecord = (sequence: string) =>
          result.onFailure.some((record) => {
            const info = batchInfo(record);
            return (
              compareSequenceNumbers(info.startSequenceNumber, sequence) <= 0 &&
              compareSequenceNumbers(sequence, info.endSequenceNumber) <= 0
            );
          });
        for (const sequence of sequences) {
          expect((applied.get(sequence) ?? 0) > 0 || inFailureRecord(sequence)).toBe(true);
        }
        for (const sequence of poison) expect(inFailureRecord(sequence)).toBe(true);
        // Checkpoints only move forward and end at the batch's last record.
        for (let index = 1; index < checkpoints.length; index += 1) {
          expect(compareSequenceNumbers(checkpoints[index - 1], checkpoints[index])).toBeLessThan(0);
        }
        expect(checkpoints[checkpoints.length - 1]).toBe(sequences[sequences.length - 1]);
      }),
      { numRuns: 300 },
    );
  });
});
