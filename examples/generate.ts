/**
 * Writes the sample recordings in examples/: one JSONL file per app, each line one delivery as Lambda would make
 * it, including the awkward parts of at-least-once delivery (a duplicated delivery, a retry from the middle of a
 * batch) and poison records. Deterministic: running it again rewrites the same bytes.
 *
 *   npx ts-node --transpile-only examples/generate.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBRecord, KinesisStreamRecord } from 'aws-lambda';
import {
  dynamodbRecord,
  kinesisRecord,
  kplAggregateRecord,
  type DynamoDBItem,
} from '../test/helpers/factories';

type Line = { readonly Records: readonly (KinesisStreamRecord | DynamoDBRecord)[]; readonly shardId?: string };

/** DynamoDB stream records do not name their shard; the recorder keeps it next to the batch. */
const DDB_SHARD = 'shardId-00000001767225600000-5f2b3c4d';

function write(name: string, lines: readonly Line[]): void {
  const path = join(__dirname, name);
  writeFileSync(path, lines.map((line) => JSON.stringify(line)).join('\n') + '\n', 'utf8');
  const records = lines.reduce((sum, line) => sum + line.Records.length, 0);
  process.stdout.write(`${path}: ${lines.length} deliveries, ${records} records\n`);
}

function scoreRecord(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', recordId: number, oldImage?: DynamoDBItem, newImage?: DynamoDBItem): DynamoDBRecord {
  return dynamodbRecord({
    eventName,
    table: 'GameScoreRecords',
    keys: { RecordID: recordId },
    ...(oldImage === undefined ? {} : { oldImage: { RecordID: recordId, ...oldImage } }),
    ...(newImage === undefined ? {} : { newImage: { RecordID: recordId, ...newImage } }),
  });
}

function scores(): Line[] {
  const inserts = [
    scoreRecord('INSERT', 1, undefined, { Username: 'Jane Doe', Score: 100 }),
    scoreRecord('INSERT', 2, undefined, { Username: 'John Roe', Score: 40 }),
    scoreRecord('INSERT', 3, undefined, { Username: 'Jane Doe', Score: 25 }),
    scoreRecord('INSERT', 4, undefined, { Username: 'Ana Silva', Score: 70 }),
  ];
  const changes = [
    scoreRecord('MODIFY', 2, { Username: 'John Roe', Score: 40 }, { Username: 'John Roe', Score: 55 }),
    // Moves the record (and its 70 points) from Ana Silva to John Roe.
    scoreRecord('MODIFY', 4, { Username: 'Ana Silva', Score: 70 }, { Username: 'John Roe', Score: 70 }),
    scoreRecord('REMOVE', 3, { Username: 'Jane Doe', Score: 25 }),
    // Poison: a Score that is not a number. Captured as a fault with its data; the batch goes on.
    scoreRecord('INSERT', 5, undefined, { Username: 'Jane Doe', Score: 'abc' }),
  ];
  const events = [
    kinesisRecord({ streamName: 'GameScoreEvents', partitionKey: 'Jane Doe', json: { Username: 'Jane Doe', Score: 10 } }),
    kinesisRecord({ streamName: 'GameScoreEvents', partitionKey: 'Wei Chen', json: { Username: 'Wei Chen', Score: 5 } }),
    // Poison: not JSON.
    kinesisRecord({ streamName: 'GameScoreEvents', partitionKey: 'Wei Chen', data: 'Wei Chen scored 5' }),
    // A KPL aggregate: two score records in one Kinesis record.
    kplAggregateRecord(
      [
        { partitionKey: 'Wei Chen', data: JSON.stringify({ Username: 'Wei Chen', Score: 7 }) },
        { partitionKey: 'Ana Silva', data: JSON.stringify({ Username: 'Ana Silva', Score: 3 }) },
      ],
      { streamName: 'GameScoreEvents' },
    ),
  ];
  return [
    { Records: inserts, shardId: DDB_SHARD },
    // Lambda re-delivering from the middle of the first batch (a retry from the lowest failed record).
    { Records: inserts.slice(2), shardId: DDB_SHARD },
    { Records: changes, shardId: DDB_SHARD },
    // The same batch delivered twice.
    { Records: changes, shardId: DDB_SHARD },
    { Records: events },
  ];
}

function tagRecord(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', id: string, oldImage?: DynamoDBItem, newImage?: DynamoDBItem): DynamoDBRecord {
  return dynamodbRecord({
    eventName,
    table: 'PageViews',
    keys: { ID: id },
    ...(oldImage === undefined ? {} : { oldImage: { ID: id, ...oldImage } }),
    ...(newImage === undefined ? {} : { newImage: { ID: id, ...newImage } }),
  });
}

function tags(): Line[] {
  const script = '<script>alert(1)</script>';
  const first = [
    tagRecord('INSERT', 'serverless', undefined, { Count: 1 }),
    tagRecord('INSERT', script, undefined, { Count: 1 }),
    tagRecord('MODIFY', 'serverless', { Count: 1 }, { Count: 2 }),
  ];
  const second = [
    // The app's own write to the COUNTER item comes back on the stream; it must be ignored.
    tagRecord('MODIFY', 'COUNTER', { TotalViews: 2 }, { TotalViews: 3 }),
    tagRecord('MODIFY', script, { Count: 1 }, { Count: 2 }),
    tagRecord('INSERT', 'kinesis', undefined, { Count: 1 }),
  ];
  const third = [tagRecord('REMOVE', 'kinesis', { Count: 1 })];
  return [
    { Records: first, shardId: DDB_SHARD },
    { Records: second, shardId: DDB_SHARD },
    { Records: second, shardId: DDB_SHARD },
    { Records: third, shardId: DDB_SHARD },
  ];
}

function orders(): Line[] {
  const order = (eventName: 'INSERT' | 'MODIFY' | 'REMOVE', id: number, amount: number) =>
    dynamodbRecord({ eventName, table: 'Orders', keys: { Id: id, Amount: amount }, viewType: 'KEYS_ONLY' });
  const first = order('INSERT', 1, 100);
  // The seed's mapping: batch size 1, so every delivery holds one record.
  return [first, order('INSERT', 2, 250), order('MODIFY', 1, 100), order('REMOVE', 2, 250), first].map((record) => ({
    Records: [record],
    shardId: DDB_SHARD,
  }));
}

function kinesisLog(): Line[] {
  const batch = [
    kinesisRecord({ partitionKey: 'device-1', json: { event: 'click', page: '/home' } }),
    kinesisRecord({ partitionKey: 'device-2', data: 'hello from the Lab-Stream' }),
    kinesisRecord({ partitionKey: 'device-3', data: Uint8Array.from([0xff, 0x00, 0x10, 0x80]) }),
    // CloudWatch Logs subscriptions deliver gzip-compressed JSON.
    kinesisRecord({ partitionKey: 'logs', gzip: true, json: { messageType: 'DATA_MESSAGE', logEvents: [{ id: '1', message: 'started' }] } }),
    kplAggregateRecord([
      { partitionKey: 'device-4', data: JSON.stringify({ event: 'view', n: 1 }) },
      { partitionKey: 'device-5', data: JSON.stringify({ event: 'view', n: 2 }) },
      { partitionKey: 'device-4', data: 'plain text inside an aggregate' },
    ]),
  ];
  // Poison: data that is not base64.
  const poison = [kinesisRecord({ partitionKey: 'device-6', base64: '%%% not base64 %%%' })];
  return [{ Records: batch }, { Records: poison }, { Records: batch }];
}

write('scores.jsonl', scores());
write('tags.jsonl', tags());
write('orders.jsonl', orders());
write('kinesis-log.jsonl', kinesisLog());
