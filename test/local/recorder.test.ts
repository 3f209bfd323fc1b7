/** `shardflow record` against kinesalite and DynamoDB Local: recordings in the shape Lambda delivers, replayable. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { PutRecordsCommand, SplitShardCommand, waitUntilStreamExists, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { DynamoDBRecord, KinesisStreamRecord } from 'aws-lambda';
import { kinesisLogApp } from '../../src/seed';
import { ensureStreams, ensureTables, openEnvironment, type LocalEnvironment } from '../../src/local/environment';
import { recordStream } from '../../src/local/recorder';
import { replay } from '../../src/local/replay';
import { openDynamoDBStream, openKinesisStream } from '../../src/local/streams';
import { useDynamoDBLocal, useKinesalite } from '../../src/testing';

describe('recordStream', () => {
  const ddb = useDynamoDBLocal();
  const kinesis = useKinesalite();
  let scratch: string;
  let environment: LocalEnvironment;
  let dynamodb: DynamoDBClient;
  let kinesisClient: KinesisClient;
  let streams: DynamoDBStreamsClient;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'shardflow-record-test-'));
    environment = await openEnvironment({ dynamodbEndpoint: ddb.endpoint(), kinesisEndpoint: kinesis.endpoint(), kinesis: true });
    ({ dynamodb, streams } = environment);
    if (environment.kinesis === undefined) throw new Error('No Kinesis client was opened.');
    kinesisClient = environment.kinesis;
  });
  afterAll(async () => {
    await environment.close();
    await rm(scratch, { recursive: true, force: true });
  });

  async function lines<T>(path: string): Promise<{ Records: T[]; shardId?: string }[]> {
    return (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { Records: T[]; shardId?: string });
  }

  it('records every shard of a Kinesis stream as Lambda records, and the recording replays', async () => {
    await ensureStreams(kinesisClient, ['Lab-Stream'], 2);
    const payloads = Array.from({ length: 25 }, (_, index) => JSON.stringify({ n: index }));
    await kinesisClient.send(
      new PutRecordsCommand({
        StreamName: 'Lab-Stream',
        Records: payloads.map((data, index) => ({ PartitionKey: `key-${index}`, Data: Buffer.from(data) })),
      }),
    );
    const output = join(scratch, 'lab.jsonl');
    const result = await recordStream({ reader: await openKinesisStream(kinesisClient, 'Lab-Stream'), output, batchSize: 4 });
    expect(result).toMatchObject({ records: 25, shards: 2 });

    const recorded = await lines<KinesisStreamRecord>(output);
    expect(recorded).toHaveLength(result.lines);
    const records = recorded.flatMap((line) => line.Records);
    expect(Math.max(...recorded.map((line) => line.Records.length))).toBeLessThanOrEqual(4);
    expect(records.map((record) => Buffer.from(record.kinesis.data, 'base64').toString()).sort()).toEqual([...payloads].sort());
    for (const line of recorded) {
      const shard = line.Records[0].eventID.split(':')[0];
      for (const record of line.Records) {
        expect(record).toMatchObject({
          eventSource: 'aws:kinesis',
          eventName: 'aws:kinesis:record',
          eventID: `${shard}:${record.kinesis.sequenceNumber}`,
          eventSourceARN: expect.stringMatching(/:stream\/Lab-Stream$/),
          kinesis: { kinesisSchemaVersion: '1.0', approximateArrivalTimestamp: expect.any(Number) },
        });
      }
    }

    const summary = await replay({ app: kinesisLogApp, recordings: [output], dynamodb });
    expect(summary).toMatchObject({ records: 25, deliveries: result.lines, batchItemFailures: 0, faults: [], dlq: [] });
  });

  it('records a DynamoDB stream with each line naming its shard, stopping at maxRecords', async () => {
    await ensureTables(dynamodb, [
      {
        TableName: 'Recorded',
        KeySchema: [{ AttributeName: 'ID', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'ID', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      },
    ]);
    for (let index = 0; index < 12; index += 1) {
      await dynamodb.send(
        new PutItemCommand({ TableName: 'Recorded', Item: { ID: { S: `item-${index}` }, Blob: { B: Uint8Array.from([index, 255]) } } }),
      );
    }
    const output = join(scratch, 'table.jsonl');
    const reader = await openDynamoDBStream({ dynamodb, streams }, { tableName: 'Recorded' });
    const result = await recordStream({ reader, output, batchSize: 5, maxRecords: 10 });
    expect(result.records).toBe(10);

    const recorded = await lines<DynamoDBRecord>(output);
    expect(recorded.map((line) => line.Records.length)).toEqual([5, 5]);
    const [shard] = await reader.listShards();
    for (const line of recorded) expect(line.shardId).toBe(shard.shardId);
    const [first] = recorded[0].Records;
    expect(first).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      eventSourceARN: reader.streamArn,
      dynamodb: {
        Keys: { ID: { S: 'item-0' } },
        NewImage: { ID: { S: 'item-0' }, Blob: { B: Buffer.from([0, 255]).toString('base64') } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        ApproximateCreationDateTime: expect.any(Number),
      },
    });
  });
  it('stops following at maxRecords exactly, however many shards are read side by side', async () => {
    await ensureStreams(kinesisClient, ['Capped'], 3);
    await kinesisClient.send(
      new PutRecordsCommand({
        StreamName: 'Capped',
        Records: Array.from({ length: 30 }, (_, index) => ({ PartitionKey: `key-${index}`, Data: Buffer.from(String(index)) })),
      }),
    );
    const output = join(scratch, 'capped.jsonl');
    const reader = await openKinesisStream(kinesisClient, 'Capped');
    const result = await recordStream({ reader, output, batchSize: 4, follow: true, maxRecords: 7, pollIntervalMs: 20 });
    expect(result.records).toBe(7);
    expect((await lines<KinesisStreamRecord>(output)).flatMap((line) => line.Records)).toHaveLength(7);
  });

  it('follows a Kinesis stream through a split: the children, listed after the parent closes, are read after it', async () => {
    await ensureStreams(kinesisClient, ['Splitting'], 1);
    const keyOf = (index: number) => `key-${index % 5}`;
    const put = (values: readonly string[]) =>
      kinesisClient.send(
        new PutRecordsCommand({
          StreamName: 'Splitting',
          Records: values.map((value, index) => ({ PartitionKey: keyOf(index), Data: Buffer.from(value) })),
        }),
      );
    const before = Array.from({ length: 10 }, (_, index) => `before-${index}`);
    const after = Array.from({ length: 20 }, (_, index) => `after-${index}`);
    await put(before);
    const output = join(scratch, 'split.jsonl');
    const abort = new AbortController();
    let recorded = 0;
    const waitFor = async (count: number) => {
      const deadline = Date.now() + 10_000;
      while (recorded < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    const recording = recordStream({
      reader: await openKinesisStream(kinesisClient, 'Splitting'),
      output,
      batchSize: 4,
      follow: true,
      signal: abort.signal,
      pollIntervalMs: 20,
      onProgress: (records) => {
        recorded = records;
      },
    });
    await waitFor(before.length);
    await kinesisClient.send(
      new SplitShardCommand({ StreamName: 'Splitting', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (2n ** 127n).toString() }),
    );
    await waitUntilStreamExists({ client: kinesisClient, maxWaitTime: 30, minDelay: 1 }, { StreamName: 'Splitting' });
    await put(after);
    await waitFor(before.length + after.length);
    abort.abort();
    const result = await recording;

    expect(result).toMatchObject({ records: before.length + after.length, shards: 3 });
    const records = (await lines<KinesisStreamRecord>(output)).flatMap((line) => line.Records);
    const values = records.map((record) => Buffer.from(record.kinesis.data, 'base64').toString());
    expect([...values].sort()).toEqual([...before, ...after].sort());
    const shardOf = (record: KinesisStreamRecord) => record.eventID.split(':')[0];
    const firstChild = records.findIndex((record) => shardOf(record) !== 'shardId-000000000000');
    expect(records.slice(firstChild).every((record) => shardOf(record) !== 'shardId-000000000000')).toBe(true);
    // Per partition key, the recording holds the records in the order they were put.
    const order = (value: string) => (value.startsWith('before') ? 0 : 100) + Number(value.split('-')[1]);
    for (let key = 0; key < 5; key += 1) {
      const ordered = values.filter((value) => Number(value.split('-')[1]) % 5 === key).map(order);
      expect(ordered).toEqual([...ordered].sort((a, b) => a - b));
    }
  });
});
