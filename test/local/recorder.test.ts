/** `shardflow record` against kinesalite and DynamoDB Local: recordings in the shape Lambda delivers, replayable. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { DynamoDBRecord, KinesisStreamRecord } from 'aws-lambda';
import { apps } from '../../src/apps';
import { localClientConfig } from '../../src/local/clients';
import { ensureStreams, ensureTables } from '../../src/local/environment';
import { recordStream } from '../../src/local/recorder';
import { replay } from '../../src/local/replay';
import { openDynamoDBStream, openKinesisStream } from '../../src/local/streams';
import { useDynamoDBLocal, useKinesalite } from '../helpers/services';

describe('recordStream', () => {
  const ddb = useDynamoDBLocal();
  const kinesis = useKinesalite();
  let scratch: string;
  let dynamodb: DynamoDBClient;
  let kinesisClient: KinesisClient;
  let streams: DynamoDBStreamsClient;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'shardflow-record-test-'));
    dynamodb = new DynamoDBClient(localClientConfig(ddb.endpoint()));
    kinesisClient = new KinesisClient(localClientConfig(kinesis.endpoint()));
    streams = new DynamoDBStreamsClient(localClientConfig(ddb.endpoint()));
  });
  afterAll(async () => {
    dynamodb.destroy();
    kinesisClient.destroy();
    streams.destroy();
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

    const summary = await replay({ app: apps['kinesis-log'], recordings: [output], dynamodb });
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
});
