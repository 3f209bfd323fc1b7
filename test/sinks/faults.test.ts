import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, KinesisStreamRecord } from 'aws-lambda';
import { localClientConfig } from '../../src/local/clients';
import { ErrorCode } from '../../src/runtime/errors';
import { jsonText } from '../../src/runtime/json-text';
import type { PartialBatchResponse } from '../../src/runtime/model';
import type { Fault } from '../../src/runtime/types';
import { DynamoDBFaultSink, faultTableDefinition } from '../../src/sinks/dynamodb-faults';
import { faultIdOf, type FaultStore } from '../../src/sinks/fault-store';
import { FileFaultSink } from '../../src/sinks/file-faults';
import { redriveEvents, redriveFaults, type RedriveEvent } from '../../src/sinks/redrive';
import { ValidationError } from '../../src/runtime/errors';
import { provenanceOf } from '../../src/runtime/model';
import { definePipeline } from '../../src/runtime/pipeline';
import type { AddEffect, Processor, Sink, StreamEvent } from '../../src/runtime/types';
import { dynamodbRecord, kinesisRecord, kinesisStreamArn, kplAggregateRecord } from '../helpers/factories';
import { useDynamoDBLocal } from '../../src/testing';
import { Fault as Injected, FaultInjectingHandler, faultyClientConfig } from '../helpers/fault-injection';
import { REDRIVE_FIELD } from '../../src/runtime/normalize';

const BATCH_WRITE = 'BatchWriteItem';

function kinesisFault(raw: KinesisStreamRecord, capturedAt = 1_000, stage = 'scores'): Fault {
  return {
    recordId: raw.eventID,
    provenance: {
      source: 'aws:kinesis',
      eventID: raw.eventID,
      streamArn: raw.eventSourceARN,
      shardId: raw.eventID.split(':')[0],
      partitionKey: raw.kinesis.partitionKey,
      sequenceNumber: raw.kinesis.sequenceNumber,
      subSequenceNumber: undefined,
    },
    position: 0,
    error: { code: ErrorCode.Validation, message: `Record ${raw.eventID} has no Score.`, retryable: false },
    stage,
    raw,
    capturedAt,
  };
}

function dynamodbFault(raw: DynamoDBRecord, capturedAt = 2_000): Fault {
  return {
    recordId: raw.eventID ?? '',
    provenance: {
      source: 'aws:dynamodb',
      eventID: raw.eventID,
      streamArn: raw.eventSourceARN,
      sequenceNumber: raw.dynamodb?.SequenceNumber,
    },
    position: 3,
    error: { code: ErrorCode.ImageNotInView, message: 'The stream needs NEW_AND_OLD_IMAGES.', retryable: false },
    stage: 'scores',
    raw,
    capturedAt,
  };
}

/** A record too malformed to have a sequence number. */
function malformedFault(capturedAt = 3_000): Fault {
  return {
    recordId: 'position-7',
    provenance: {},
    position: 7,
    error: { code: ErrorCode.MissingField, message: 'Record position-7 cannot be decoded: it has no eventSource.', retryable: false },
    stage: 'normalize',
    raw: { garbage: true, nested: [1, 'two', null] },
    capturedAt,
  };
}

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const strip = ({ faultId: _id, captureId: _capture, ...fault }: Fault & { faultId: string; captureId: string }) => fault;


/** A record as a redrive replays it: as delivered, marked with the stages its faults were captured at. */
function redriven<T extends object>(raw: T, stages: readonly string[] = ['scores']): T & { [REDRIVE_FIELD]: readonly string[] } {
  return { ...raw, [REDRIVE_FIELD]: stages };
}

describe('fault sinks', () => {
  const ddb = useDynamoDBLocal();
  let client: DynamoDBClient;
  let directory: string;
  let tables = 0;

  beforeAll(() => {
    client = new DynamoDBClient(localClientConfig(ddb.endpoint()));
    directory = mkdtempSync(join(tmpdir(), 'shardflow-faults-'));
  });
  afterAll(() => {
    client.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  async function freshTable(): Promise<string> {
    tables += 1;
    const name = `Faults${tables}`;
    await client.send(new CreateTableCommand(faultTableDefinition(name)));
    return name;
  }

  const stores: [string, () => Promise<FaultStore>][] = [
    ['DynamoDBFaultSink', async () => new DynamoDBFaultSink({ client, table: await freshTable() })],
    ['FileFaultSink', async () => new FileFaultSink({ path: join(directory, `faults-${++tables}.jsonl`) })],
  ];

  describe.each(stores)('%s', (_name, create) => {
    it('captures faults with their data, error, position and stage, and lists them in capture order', async () => {
      const store = await create();
      const kinesis = kinesisFault(kinesisRecord({ json: { Username: 'Jane Doe', Score: 'high' } }));
      const table = dynamodbFault(dynamodbRecord({ eventName: 'MODIFY', keys: { RecordID: 1 }, viewType: 'NEW_IMAGE' }));
      const malformed = malformedFault();
      await store.capture([malformed, kinesis]);
      await store.capture([table]);
      const listed = await store.listFaults();
      expect(listed.map(strip)).toEqual([kinesis, table, malformed]);
      expect(listed.map((fault) => fault.faultId)).toEqual([kinesis, table, malformed].map((fault) => faultIdOf(fault)));
      expect(await store.listFaults({ streamArn: kinesis.provenance.streamArn })).toHaveLength(1);
      expect((await store.listFaults({ limit: 2 })).map(strip)).toEqual([kinesis, table]);
    });

    it('keeps a fault per record: malformed records at one batch position, and one eventID with other content', async () => {
      const store = await create();
      // Two deliveries, each with a record without an eventID at position 7: both are named "at batch position 7".
      await store.capture([{ ...malformedFault(1_000), raw: { garbage: 'first delivery' } }]);
      await store.capture([{ ...malformedFault(2_000), raw: { garbage: 'second delivery' } }]);
      const raw = kinesisRecord({ json: { Score: 'x' } });
      const forged = { ...raw, kinesis: { ...raw.kinesis, data: Buffer.from('{"Score":"y"}').toString('base64') } };
      await store.capture([kinesisFault(raw, 3_000), kinesisFault(forged, 3_000)]);
      const listed = await store.listFaults();
      expect(listed).toHaveLength(4);
      expect(listed.map((fault) => [fault.recordId, fault.raw])).toEqual(
        expect.arrayContaining([
          ['position-7', { garbage: 'first delivery' }],
          ['position-7', { garbage: 'second delivery' }],
          [raw.eventID, raw],
          [raw.eventID, forged],
        ]),
      );
      expect(new Set(listed.map((fault) => fault.faultId)).size).toBe(4);
    });

    it('keeps one fault per record and stage when the same record is captured again', async () => {
      const store = await create();
      const raw = kinesisRecord({ json: { Score: 'x' } });
      await store.capture([kinesisFault(raw, 1_000)]);
      const [first] = await store.listFaults();
      await store.capture([kinesisFault(raw, 5_000)]);
      const listed = await store.listFaults();
      expect(listed).toHaveLength(1);
      expect(listed[0]?.capturedAt).toBe(5_000);
      expect(listed[0]?.captureId).not.toBe(first?.captureId);
      // Another stage of the same record is another fault.
      await store.capture([kinesisFault(raw, 6_000, 'tags')]);
      expect(await store.listFaults()).toHaveLength(2);
    });

    it('keeps a record far larger than a DynamoDB item byte for byte', async () => {
      const store = await create();
      // 1 MB of random bytes: about 1.4 MB of base64 that gzip cannot shrink below the 400 KB item limit.
      const raw = kinesisRecord({ data: randomBytes(1024 * 1024) });
      await store.capture([kinesisFault(raw)]);
      const [listed] = await store.listFaults();
      expect(listed?.raw).toEqual(raw);
    });

    it('keeps a record nested deeper than JSON.stringify can go, and redrives it', async () => {
      const store = await create();
      const raw = dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 1 } }) as unknown as { dynamodb: Record<string, unknown> };
      let deep: Record<string, unknown> = { S: 'bottom' };
      for (let level = 0; level < 100_000; level++) deep = { M: { inner: deep } };
      raw.dynamodb.NewImage = { RecordID: { N: '1' }, deep };
      raw.dynamodb.Keys = { RecordID: deep };
      await store.capture([dynamodbFault(raw as unknown as DynamoDBRecord)]);
      const [listed] = await store.listFaults();
      // Compared as text: recursive comparisons overflow at this depth too.
      expect(jsonText(listed?.raw)).toBe(jsonText(raw));
      const replayed: RedriveEvent[] = [];
      const report = await redriveFaults(store, async (event) => {
        replayed.push(event);
        return { batchItemFailures: [] };
      });
      expect(report).toMatchObject({ events: 1, deleted: 1, kept: 0 });
      expect(jsonText(replayed[0]?.Records)).toBe(jsonText([redriven(raw)]));
    });

    it('deletes a fault only while it holds the listed capture', async () => {
      const store = await create();
      const raw = kinesisRecord({ data: randomBytes(600 * 1024) });
      await store.capture([kinesisFault(raw)]);
      const [listed] = await store.listFaults();
      expect(await store.deleteFault(listed!.faultId, { captureId: 'another capture' })).toBe(false);
      expect(await store.listFaults()).toHaveLength(1);
      expect(await store.deleteFault(listed!.faultId, { captureId: listed!.captureId })).toBe(true);
      expect(await store.deleteFault(listed!.faultId)).toBe(false);
      expect(await store.listFaults()).toEqual([]);
    });

    it('redrives faults as Lambda events and deletes those whose records went through', async () => {
      const store = await create();
      const shard0 = [1, 2, 3].map((n) => kinesisRecord({ json: { n }, shardId: 'shardId-000000000000', streamName: 'Redrive' }));
      const shard1 = kinesisRecord({ json: { n: 4 }, shardId: 'shardId-000000000001', streamName: 'Redrive' });
      // Captured out of order; the redrive puts each shard's records back in sequence order.
      await store.capture([kinesisFault(shard0[2]!), kinesisFault(shard1), kinesisFault(shard0[0]!), kinesisFault(shard0[1]!)]);
      const other = malformedFault();
      await store.capture([other]);
      const replayed: RedriveEvent[] = [];
      const report = await redriveFaults(
        store,
        async (event): Promise<PartialBatchResponse> => {
          replayed.push(event);
          // The second record of shard 0 fails again (retryably); shard 1's record faults again (re-captured).
          if ((event.Records as KinesisStreamRecord[]).some((record) => record.eventID === shard1.eventID)) {
            await store.capture([kinesisFault(shard1, 9_000)]);
            return { batchItemFailures: [] };
          }
          return { batchItemFailures: [{ itemIdentifier: shard0[1]!.kinesis.sequenceNumber }] };
        },
        { streamArn: kinesisStreamArn('Redrive') },
      );
      expect(replayed.map((event) => event.Records)).toEqual([shard0.map((raw) => redriven(raw)), [redriven(shard1)]]);
      expect(report).toEqual({ events: 2, deleted: 2, kept: 2, errors: [] });
      const left = await store.listFaults();
      expect(left.map((fault) => fault.recordId).sort()).toEqual([shard0[1]!.eventID, shard1.eventID, other.recordId].sort());
    });

    it('keeps a failing KPL user record on its own, and redrives it as that user record', async () => {
      const store = await create();
      const aggregate = kplAggregateRecord(
        ['ok', 'bad', 'ok', 'bad'].map((kind, index) => ({ partitionKey: `k${index}`, data: JSON.stringify({ kind, pad: 'x'.repeat(10_000) }) })),
      );
      let fixed = false;
      const processor: Processor<AddEffect> = {
        name: 'kinds',
        select: {},
        process(record) {
          const { kind } = record.payload.json() as { kind: string };
          if (kind === 'bad' && !fixed) throw new ValidationError(`Record ${record.recordId} is bad.`);
          return [{ type: 'add', provenance: provenanceOf(record), table: 'T', key: { k: record.partitionKey }, add: { n: 1 } }];
        },
      };
      const applied: string[] = [];
      const sink: Sink<AddEffect> = {
        name: 'memory',
        accepts: (effect): effect is AddEffect => effect.type === 'add',
        apply: async (batch) => {
          applied.push(...batch.map(({ record }) => record.recordId));
          return { failed: [] };
        },
      };
      const pipeline = definePipeline({ processors: [processor], sinks: [sink], faultSink: store, options: { logger: silent } });
      await pipeline.run({ Records: [aggregate] });
      const faults = await store.listFaults();
      expect(faults.map((fault) => fault.recordId)).toEqual([`${aggregate.eventID}#1`, `${aggregate.eventID}#3`]);
      // Each keeps its own user record (10 KB), not the 40 KB aggregate.
      for (const fault of faults) expect(jsonText(fault.raw).length).toBeLessThan(16_000);

      fixed = true;
      applied.length = 0;
      const report = await redriveFaults(store, async (event) => (await pipeline.run(event as StreamEvent)).response);
      expect(report).toMatchObject({ deleted: 2, kept: 0 });
      // Redriven under their own ids, so the exactly-once markers of the other user records are never touched.
      expect(applied).toEqual([`${aggregate.eventID}#1`, `${aggregate.eventID}#3`]);
    });

    it('keeps every fault of an event whose replay throws', async () => {
      const store = await create();
      await store.capture([kinesisFault(kinesisRecord({ json: {} }))]);
      const report = await redriveFaults(store, () => Promise.reject(new Error('The handler crashed.')));
      expect(report).toEqual({ events: 1, deleted: 0, kept: 1, errors: ['The handler crashed.'] });
      expect(await store.listFaults()).toHaveLength(1);
    });
  });

  it('marks a record redriven with the stages of all its faults', () => {
    const raw = kinesisRecord({ json: { two: 'sinks' } });
    const [group] = redriveEvents([kinesisFault(raw, 1_000, 'notes'), kinesisFault(raw, 2_000, 'audit')]);
    expect(group?.event.Records).toEqual([redriven(raw, ['notes', 'audit'])]);
  });

  it('redrives the parent of several faulted KPL sub-records once', () => {
    const raw = kinesisRecord({ json: { aggregate: true } });
    const sub = (index: number): Fault => {
      const fault = kinesisFault(raw);
      return { ...fault, recordId: `${raw.eventID}#${index}`, provenance: { ...fault.provenance, subSequenceNumber: index } };
    };
    const [group] = redriveEvents([sub(2), sub(0)]);
    expect(group?.event.Records).toEqual([redriven(raw)]);
    expect(group?.faults.map((fault) => fault.recordId)).toEqual([`${raw.eventID}#0`, `${raw.eventID}#2`]);
  });

  it('stores faults whose BatchWriteItem comes back with UnprocessedItems', async () => {
    const handler = new FaultInjectingHandler();
    handler.queue(BATCH_WRITE, [Injected.PartialBatch, Injected.PartialBatch]);
    const table = await freshTable();
    const store = new DynamoDBFaultSink({
      client: new DynamoDBClient(faultyClientConfig(ddb.endpoint(), handler)),
      table,
      backoff: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    const faults = Array.from({ length: 8 }, () => kinesisFault(kinesisRecord({ json: {} })));
    await store.capture(faults);
    expect((await store.listFaults()).map(strip)).toEqual(faults);
    // 8 heads: 4 land, then 2 of the 4 left, then the last 2.
    expect(handler.count(BATCH_WRITE)).toBe(3);
  });

  it('refuses with a retryable error naming the records when the table keeps throttling, and stores no partial fault', async () => {
    const handler = new FaultInjectingHandler((operation) => (operation === BATCH_WRITE ? Injected.Throttle : Injected.Pass));
    const table = await freshTable();
    const store = new DynamoDBFaultSink({
      client: new DynamoDBClient(faultyClientConfig(ddb.endpoint(), handler)),
      table,
      backoff: { maxAttempts: 3, baseDelayMs: 1 },
    });
    const fault = kinesisFault(kinesisRecord({ data: randomBytes(500 * 1024) }));
    await expect(store.capture([fault])).rejects.toMatchObject({
      code: ErrorCode.FaultCaptureFailed,
      retryable: true,
      message: expect.stringContaining(`records ${fault.recordId} could not be written to table ${table}`),
    });
    expect(handler.count(BATCH_WRITE)).toBe(3);
    const { Count } = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'faultId = :id',
        ExpressionAttributeValues: { ':id': { S: faultIdOf(fault) } },
      }),
    );
    expect(Count).toBe(0);
  });

  it('cuts an error message too long for the fault table to fit, saying so, instead of refusing the fault', async () => {
    const store = new DynamoDBFaultSink({ client, table: await freshTable() });
    const fault = kinesisFault(kinesisRecord({ json: { Score: 'x' } }));
    // Multi-byte characters and JSON escapes: the cut is made on bytes as stored.
    const message = 'Score "x" is not a number: é\n'.repeat(5_000);
    await store.capture([{ ...fault, error: { ...fault.error, message } }]);
    const [listed] = await store.listFaults();
    const stored = listed?.error.message ?? '';
    expect(stored.length).toBeLessThan(message.length);
    expect(Buffer.byteLength(stored)).toBeGreaterThan(30_000);
    expect(message.startsWith(stored.slice(0, stored.indexOf(' [cut')))).toBe(true);
    expect(stored).toMatch(new RegExp(`\\[cut to fit the fault table; the whole message had ${Buffer.byteLength(message)} bytes\\]$`));
    expect(listed && strip(listed)).toEqual({ ...fault, error: { ...fault.error, message: stored } });
  });

  it('throws DEPLOYMENT_ERROR for a fault table that does not exist, so the batch fails instead of its records', async () => {
    const store = new DynamoDBFaultSink({ client, table: 'NoSuchFaultTable' });
    const error = await store.capture([malformedFault()]).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: ErrorCode.DeploymentError, retryable: true });
    expect(String(error)).toMatch(/Fault sink dynamodb-faults cannot write to table NoSuchFaultTable \(ResourceNotFoundException/);
  });

  it('names the line of a fault file that is not JSON', async () => {
    const path = join(directory, 'corrupt.jsonl');
    writeFileSync(path, `${JSON.stringify({ ...malformedFault(), faultId: 'a', captureId: 'b' })}\n{not json\n`);
    await expect(new FileFaultSink({ path }).listFaults()).rejects.toThrow(/Line 2 of fault file .+corrupt\.jsonl is not JSON/);
  });

  it('lists nothing before the first capture', async () => {
    expect(await new FileFaultSink({ path: join(directory, 'absent.jsonl') }).listFaults()).toEqual([]);
  });
});
