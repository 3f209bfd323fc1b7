/**
 * The stream apps end to end on DynamoDB Local: factory-built Lambda events through each app's real handler,
 * asserting the tables, the partial batch responses, the captured faults and the log lines.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { DEFAULT_FAULT_TABLE as FAULT_TABLE, DynamoDBFaultSink, type StreamEvent } from '../../src/index';
import { createLocalContext, dumpTable, ensureTables, localClientConfig } from '../../src/local/index';
import { kinesisLogApp, ordersApp, scoresApp, seedApps as apps, tagsApp } from '../../src/seed';
import { dynamodbEvent, dynamodbRecord, kinesisEvent, kinesisRecord } from '../helpers/factories';
import { capturingOutput } from '../helpers/output';
import { useDynamoDBLocal } from '../../src/testing';

const ddb = useDynamoDBLocal();
let client: DynamoDBClient;
let scratch: string;

beforeAll(async () => {
  client = new DynamoDBClient(localClientConfig(ddb.endpoint()));
  scratch = await mkdtemp(join(tmpdir(), 'shardflow-apps-'));
  await ensureTables(client, apps.flatMap((app) => app.tables));
});

afterAll(async () => {
  client?.destroy();
  await rm(scratch, { recursive: true, force: true });
});

const context = (name: string): Context => createLocalContext({ functionName: name, region: 'us-east-1', timeoutMs: 60_000 });

async function userScore(username: string): Promise<number | undefined> {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: 'GameScoresByUser', Key: { Username: { S: username } }, ConsistentRead: true }),
  );
  return Item?.Score?.N === undefined ? undefined : Number(Item.Score.N);
}

describe('app definitions', () => {
  it('list every table they consume or write, and only seed streams', () => {
    for (const app of apps) {
      const names = app.tables.map((table) => table.TableName);
      for (const output of app.outputs) expect(names).toContain(output.TableName);
      for (const source of app.sources.tables) expect(names).toContain(source.TableName);
      expect(new Set(names).size).toBe(names.length);
    }
    const streamed = (name: string) => apps.flatMap((app) => app.sources.tables).find((t) => t.TableName === name);
    expect(streamed('GameScoreRecords')?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(streamed('PageViews')?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(streamed('Orders')?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'KEYS_ONLY' });
    expect(ordersApp.eventSource).toMatchObject({ batchSize: 1, startingPosition: 'LATEST' });
    expect(kinesisLogApp.sources.kinesisStreams).toEqual(['Lab-Stream']);
    expect(scoresApp.sources.kinesisStreams).toEqual(['GameScoreEvents']);
  });
});

describe('scores app', () => {
  it('keeps per-user totals from table changes and Kinesis score records, exactly once, and captures a poison record', async () => {
    const faultFile = join(scratch, 'scores-faults.jsonl');
    const handler = scoresApp.createHandler({ dynamodb: client, faults: { file: faultFile } });
    const jane = (score: unknown) => ({ RecordID: 2, Username: 'Jane Doe', Score: score, Nickname: 'JaneD' });
    const poison = dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 3 }, newImage: { RecordID: 3, Username: 'Ann', Score: 'lots' } });
    const changes = dynamodbEvent([
      dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 2 }, newImage: jane(100) }),
      poison,
      dynamodbRecord({ eventName: 'MODIFY', keys: { RecordID: 2 }, oldImage: jane(100), newImage: jane(150) }),
      dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 4 }, newImage: { RecordID: 4, Username: 'John Roe', Score: 7 } }),
      dynamodbRecord({ eventName: 'MODIFY', keys: { RecordID: 4 }, oldImage: { RecordID: 4, Username: 'John Roe', Score: 7 }, newImage: { RecordID: 4, Username: 'Jane Doe', Score: 8 } }),
    ]);
    const scores = kinesisEvent([
      kinesisRecord({ streamName: 'GameScoreEvents', json: { Username: 'Jane Doe', Score: 5 }, partitionKey: 'Jane Doe' }),
      kinesisRecord({ streamName: 'GameScoreEvents', json: { Username: 'Ann', Score: 2 }, partitionKey: 'Ann' }),
    ]);

    // Every delivery twice: Lambda delivers at least once.
    for (const event of [changes, scores, changes, scores] as StreamEvent[]) {
      await expect(handler(event, context('scores'))).resolves.toEqual({ batchItemFailures: [] });
    }
    expect(await userScore('Jane Doe')).toBe(150 + 8 + 5);
    expect(await userScore('John Roe')).toBe(0);
    expect(await userScore('Ann')).toBe(2);

    const faults = (await readFile(faultFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(faults.length).toBeGreaterThanOrEqual(1);
    for (const fault of faults) {
      expect(fault).toMatchObject({ recordId: poison.eventID, stage: 'score-aggregator', raw: poison, error: { code: 'VALIDATION', retryable: false } });
      expect(String((fault.error as { message: string }).message)).toContain('Score is the string "lots"');
    }
  });

  it('faults MODIFY records from the seed NEW_IMAGE stream instead of double counting, in the default fault table', async () => {
    const handler = scoresApp.createHandler({ dynamodb: client });
    const insert = dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 20 }, newImage: { RecordID: 20, Username: 'Seed', Score: 10 }, viewType: 'NEW_IMAGE' });
    const modify = dynamodbRecord({ eventName: 'MODIFY', keys: { RecordID: 20 }, newImage: { RecordID: 20, Username: 'Seed', Score: 12 }, viewType: 'NEW_IMAGE' });
    await expect(handler(dynamodbEvent([insert, modify]), context('scores'))).resolves.toEqual({ batchItemFailures: [] });
    expect(await userScore('Seed')).toBe(10);
    const stored = await new DynamoDBFaultSink({ client, table: FAULT_TABLE }).listFaults();
    const fault = stored.find((candidate) => candidate.recordId === modify.eventID);
    expect(fault?.error).toMatchObject({ code: 'IMAGE_NOT_IN_VIEW', retryable: false });
    expect(fault?.error.message).toContain('NEW_AND_OLD_IMAGES');
    expect(fault?.raw).toEqual(modify);
  });
});

describe('tags app', () => {
  it('keeps COUNTER.TotalViews equal to the sum of Count and ignores its own writes', async () => {
    const handler = tagsApp.createHandler({ dynamodb: client, faults: { file: join(scratch, 'tags-faults.jsonl') } });
    const change = (eventName: 'INSERT' | 'MODIFY' | 'REMOVE', id: string, oldCount?: number, newCount?: number, attribute = 'Count') =>
      dynamodbRecord({
        eventName,
        table: 'PageViews',
        keys: { ID: id },
        ...(oldCount === undefined ? {} : { oldImage: { ID: id, [attribute]: oldCount } }),
        ...(newCount === undefined ? {} : { newImage: { ID: id, [attribute]: newCount } }),
      });
    const event = dynamodbEvent([
      change('INSERT', 'cats', undefined, 1),
      change('MODIFY', 'cats', 1, 2),
      change('INSERT', 'dogs', undefined, 3),
      change('INSERT', 'COUNTER', undefined, 3, 'TotalViews'),
      change('MODIFY', 'COUNTER', 3, 5, 'TotalViews'),
      change('INSERT', 'fish', undefined, 4),
      change('REMOVE', 'fish', 4, undefined),
    ]);
    await expect(handler(event, context('tags'))).resolves.toEqual({ batchItemFailures: [] });
    await expect(handler(event, context('tags'))).resolves.toEqual({ batchItemFailures: [] });
    const items = await dumpTable(client, 'PageViews');
    expect(items).toEqual([{ ID: 'COUNTER', TotalViews: 5 }]);
  });
});

describe('logging apps', () => {
  it('orders: logs the keys of KEYS_ONLY records (seed 002)', async () => {
    const handler = ordersApp.createHandler({ dynamodb: client, faults: { file: join(scratch, 'orders-faults.jsonl') } });
    const record = dynamodbRecord({ eventName: 'INSERT', table: 'Orders', keys: { Id: 1001, Amount: 25 }, viewType: 'KEYS_ONLY' });
    const { result, lines } = await capturingOutput(() => handler(dynamodbEvent([record]), context('orders')));
    expect(result).toEqual({ batchItemFailures: [] });
    const line = lines.find((candidate) => candidate.table === 'Orders');
    expect(line).toMatchObject({ level: 'INFO', service: 'orders', eventName: 'INSERT', keys: { Id: 1001, Amount: 25 }, viewType: 'KEYS_ONLY' });
    expect(line).not.toHaveProperty('newImage');
  });

  it('kinesis-log: logs Lab-Stream records decoded', async () => {
    const handler = kinesisLogApp.createHandler({ dynamodb: client, faults: { file: join(scratch, 'log-faults.jsonl') } });
    const event = kinesisEvent([
      kinesisRecord({ json: { sensor: 'a', value: 1 } }),
      kinesisRecord({ data: 'plain text' }),
      kinesisRecord({ data: Uint8Array.from([0xff, 0x00]) }),
    ]);
    const { result, lines } = await capturingOutput(() => handler(event, context('kinesis-log')));
    expect(result).toEqual({ batchItemFailures: [] });
    const logged = lines.filter((line) => line.stream === 'Lab-Stream').map((line) => [line.encoding, line.data]);
    expect(logged).toEqual([
      ['json', { sensor: 'a', value: 1 }],
      ['text', 'plain text'],
      ['base64', Buffer.from([0xff, 0x00]).toString('base64')],
    ]);
  });
});
