/**
 * What exactly-once costs in DynamoDB: 10,000 Kinesis score records over 100 and over 10,000 keys, applied on DynamoDB
 * Local by the seeds' approach (an UpdateItem ADD per record, not idempotent) and by `DynamoDBSink` in marker mode
 * and in checkpoint mode, in batches of 100 and 10,000. Measured: requests, wall time per 1,000 records, and the write
 * capacity DynamoDB would charge, computed from the items' sizes and DynamoDB's published rules:
 *
 * - an item's size is the sum of its attributes' names and values (a string's UTF-8 bytes, a number's significant
 *   digits halved plus one byte);
 * - a standard write costs 1 write unit per started KB of the item (the larger of before and after, for an update);
 * - a transactional write costs 2 per started KB, for every item of the transaction.
 *
 * DynamoDB Local's own `ConsumedCapacity` for transactions (4 units per transaction, whatever it holds) is not what the
 * service charges; it is reported next to the computed figure only to show that. Whether the service charges a
 * cancelled transaction is not documented in the sources used: the computed figures leave cancelled requests out, and
 * a re-delivery's row also gives the figure were they charged like committed ones (an upper bound).
 */
import { CreateTableCommand, DynamoDBClient, ScanCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamRecord } from 'aws-lambda';
import { localClientConfig } from '../src/local/clients';
import { startDynamoDBLocal } from '../src/local/services';
import { provenanceOf, type StreamRecord } from '../src/runtime/model';
import { normalizeRecord } from '../src/runtime/normalize';
import type { AddEffect, RecordEffects } from '../src/runtime/types';
import { DynamoDBSink, ExactlyOnceMode, markerTableDefinition } from '../src/sinks/dynamodb';

export interface SinkCostOptions {
  readonly quick: boolean;
}

/** How records are applied. */
const Approach = {
  /** The seeds' Lambda: one UpdateItem ADD per record, not idempotent (a re-delivery adds again). */
  PerRecordAdd: 'per-record-add',
  Markers: ExactlyOnceMode.Markers,
  Checkpoint: ExactlyOnceMode.Checkpoint,
} as const;
type Approach = (typeof Approach)[keyof typeof Approach];

export interface SinkCostCase {
  readonly approach: Approach;
  readonly keys: number;
  /** Records per batch; the seeds' approach writes per record, whatever the batch. */
  readonly batchSize: number;
  readonly records: number;
  readonly requests: number;
  /** Write units DynamoDB charges for the committed writes, computed from item sizes. */
  readonly writeCapacity: number;
  readonly writeCapacityPerRecord: number;
  readonly wallMsPer1000Records: number;
  /** What DynamoDB Local reported as consumed (not what the service charges for transactions). */
  readonly dynamoDBLocalReportedCapacity: number | undefined;
  /** Against the seeds' per-record ADD on the same keys. */
  readonly writeCapacityVsPerRecordAdd: number;
  readonly requestsVsPerRecordAdd: number;
  /** The first batch delivered again, as Lambda does after a lost response: what it costs, and what it applied. */
  readonly redelivery?: {
    readonly requests: number;
    readonly cancelledRequests: number;
    readonly writeCapacity: number;
    /** Were cancelled transactions charged as committed ones. */
    readonly writeCapacityIfCancelledCharged: number;
    readonly recordsApplied: number;
  };
}

export interface SinkCostReport {
  readonly method: string;
  readonly results: readonly SinkCostCase[];
  readonly goals: {
    /** Checkpoint mode on 100 keys, batches of 10,000: write capacity over the seeds' per-record ADD. */
    readonly capacityRatio: number;
    readonly capacityMet: boolean;
    /** The seeds' requests over checkpoint mode's, same workload. */
    readonly requestReduction: number;
    readonly requestsMet: boolean;
  };
}

const GOAL_CAPACITY = 1.25;
const GOAL_REQUESTS = 10;
const KB = 1024;
const SCORE = 'Score';
const USER = 'Username';

/** The seeds' write and the sink's transactions, as sent, with their HTTP status. */
interface SentRequest {
  readonly operation: string;
  readonly body: { TransactItems?: TransactAction[]; TableName?: string; Key?: Record<string, AttributeValue> };
  readonly status: number;
}

interface TransactAction {
  readonly Put?: { TableName: string; Item: Record<string, AttributeValue> };
  readonly Update?: { TableName: string; Key: Record<string, AttributeValue> };
}

/** Keeps every request it sends, so its items can be priced afterwards. */
class RecordingHandler extends NodeHttpHandler {
  readonly sent: SentRequest[] = [];

  override async handle(request: Parameters<NodeHttpHandler['handle']>[0], options?: Parameters<NodeHttpHandler['handle']>[1]): ReturnType<NodeHttpHandler['handle']> {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    const body: unknown = request.body;
    const text = typeof body === 'string' ? body : new TextDecoder().decode(body as Uint8Array);
    const result = await super.handle(request, options);
    this.sent.push({ operation, body: JSON.parse(text) as SentRequest['body'], status: result.response.statusCode });
    return result;
  }

  /** Drops what was recorded (between runs). */
  reset(): void {
    this.sent.length = 0;
  }
}

/** An attribute's size by DynamoDB's rules. */
function attributeSize(name: string, value: AttributeValue): number {
  return Buffer.byteLength(name) + valueSize(value);
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) {
    const digits = value.N.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(digits.length / 2) + 1;
  }
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [key, element]) => sum + 1 + attributeSize(key, element), 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + valueSize(element), 0);
  return 0;
}

function itemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + attributeSize(name, value), 0);
}

/** Write units of one item: 1 per started KB (at least 1). */
function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / KB));
}

const itemKey = (table: string, key: Record<string, AttributeValue>) => `${table}|${JSON.stringify(key)}`;

/** Every item of the tables, by table and key, with its size. */
async function itemSizes(client: DynamoDBClient, tables: readonly { name: string; key: string }[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const { name, key } of tables) {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: name, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) sizes.set(itemKey(name, { [key]: item[key]! }), itemSize(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }
  return sizes;
}

/** Write units of the recorded requests: committed ones, and cancelled ones as if they had committed. */
function capacityOf(sent: readonly SentRequest[], sizes: ReadonlyMap<string, number>): { committed: number; cancelled: number; cancelledRequests: number } {
  let committed = 0;
  let cancelled = 0;
  let cancelledRequests = 0;
  for (const { operation, body, status } of sent) {
    let units = 0;
    if (operation === 'UpdateItem') units = writeUnits(sizes.get(itemKey(body.TableName!, body.Key!)) ?? 0);
    else if (operation === 'TransactWriteItems') {
      for (const action of body.TransactItems ?? []) {
        // The larger of before and after: items only grow here, so their size at the end.
        const bytes = action.Put !== undefined ? itemSize(action.Put.Item) : (sizes.get(itemKey(action.Update!.TableName, action.Update!.Key)) ?? 0);
        units += 2 * writeUnits(bytes);
      }
    }
    if (status === 200) committed += units;
    else {
      cancelled += units;
      cancelledRequests += 1;
    }
  }
  return { committed, cancelled, cancelledRequests };
}

/** `count` Kinesis records of one shard, record i adding its score to user `i % keys`, as the sink gets them. */
function scoreRecords(count: number, keys: number, table: string, stream: string): RecordEffects<AddEffect>[] {
  const result: RecordEffects<AddEffect>[] = [];
  for (let i = 0; i < count; i++) {
    const sequenceNumber = (49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n + BigInt(i)).toString();
    const raw: KinesisStreamRecord = {
      kinesis: { kinesisSchemaVersion: '1.0', partitionKey: `user-${i % keys}`, sequenceNumber, data: 'e30=', approximateArrivalTimestamp: 1_767_225_600 + i / 1000 },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-role',
      awsRegion: 'us-east-1',
      eventSourceARN: `arn:aws:kinesis:us-east-1:123456789012:stream/${stream}`,
    };
    const normalized = normalizeRecord(raw, i);
    if (!normalized.ok) throw normalized.error;
    const record = normalized.records[0] as StreamRecord;
    result.push({ record, effects: [{ type: 'add', provenance: provenanceOf(record), table, key: { [USER]: `user-${i % keys}` }, add: { [SCORE]: (i * 31) % 1000 } }] });
  }
  return result;
}

interface Setting {
  readonly approach: Approach;
  readonly keys: number;
  readonly batchSize: number;
  readonly records: number;
}

async function runCase(endpoint: string, setting: Setting, run: number): Promise<Omit<SinkCostCase, 'writeCapacityVsPerRecordAdd' | 'requestsVsPerRecordAdd'>> {
  const handler = new RecordingHandler();
  const client = new DynamoDBClient({ ...localClientConfig(endpoint), requestHandler: handler, maxAttempts: 1 });
  const table = `Totals${run}`;
  const markers = `Markers${run}`;
  await client.send(
    new CreateTableCommand({ TableName: table, KeySchema: [{ AttributeName: USER, KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: USER, AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }),
  );
  await client.send(new CreateTableCommand(markerTableDefinition(markers)));
  handler.reset();
  const records = scoreRecords(setting.records, setting.keys, table, `scores-${run}`);
  const tables = [{ name: table, key: USER }, { name: markers, key: 'pk' }];
  try {
    if (setting.approach === Approach.PerRecordAdd) {
      const started = performance.now();
      for (const { effects } of records) {
        const [effect] = effects as [AddEffect];
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { [USER]: { S: String(effect.key[USER]) } },
            UpdateExpression: 'ADD #score :n',
            ExpressionAttributeNames: { '#score': SCORE },
            ExpressionAttributeValues: { ':n': { N: String(effect.add[SCORE]) } },
          }),
        );
      }
      const wall = performance.now() - started;
      const sent = [...handler.sent];
      const { committed } = capacityOf(sent, await itemSizes(client, tables));
      return result(setting, sent.length, committed, wall, undefined);
    }
    const sink = new DynamoDBSink({ client, markerTable: markers, exactlyOnce: setting.approach, name: 'bench' });
    const started = performance.now();
    for (let from = 0; from < records.length; from += setting.batchSize) {
      const outcome = await sink.apply(records.slice(from, from + setting.batchSize));
      if (outcome.failed.length > 0) throw new Error(`The sink failed ${outcome.failed.length} records: ${String(outcome.failed[0]?.error)}`);
    }
    const wall = performance.now() - started;
    const firstRun = handler.sent.length;
    const applied = sink.metrics();
    // The first batch again, as after a lost response: the markers or the checkpoint turn it away.
    const again = await sink.apply(records.slice(0, setting.batchSize));
    if (again.failed.length > 0) throw new Error(`The sink failed ${again.failed.length} records delivered again: ${String(again.failed[0]?.error)}`);
    const sent = [...handler.sent];
    const sizes = await itemSizes(client, tables);
    const first = capacityOf(sent.slice(0, firstRun), sizes);
    const repeated = capacityOf(sent.slice(firstRun), sizes);
    return {
      ...result(setting, firstRun, first.committed, wall, applied.consumedCapacityUnits),
      redelivery: {
        requests: sent.length - firstRun,
        cancelledRequests: repeated.cancelledRequests,
        writeCapacity: repeated.committed,
        writeCapacityIfCancelledCharged: repeated.committed + repeated.cancelled,
        recordsApplied: sink.metrics().recordsApplied - applied.recordsApplied,
      },
    };
  } finally {
    client.destroy();
  }
}

function result(setting: Setting, requests: number, writeCapacity: number, wallMs: number, reported: number | undefined) {
  return {
    ...setting,
    requests,
    writeCapacity,
    writeCapacityPerRecord: Math.round((writeCapacity / setting.records) * 10_000) / 10_000,
    wallMsPer1000Records: Math.round((wallMs / setting.records) * 1000 * 100) / 100,
    dynamoDBLocalReportedCapacity: reported,
  };
}

/** Runs every setting on one DynamoDB Local. */
export async function measureSinkCost(options: SinkCostOptions): Promise<SinkCostReport> {
  // --quick keeps to what tells each rate: the seeds' approach costs one request per record, and marker mode one
  // marker per record, whatever the batch; batches of 100 repeat the same transactions. The goal's setting (checkpoint
  // mode, batches of 10,000) always runs in full.
  const records = 10_000;
  const settings: Setting[] = [];
  for (const keys of [100, 10_000]) {
    settings.push({ approach: Approach.PerRecordAdd, keys, batchSize: 1, records: options.quick ? 500 : records });
    for (const batchSize of options.quick ? [100] : [100, 1_000, 10_000]) {
      settings.push({ approach: Approach.Markers, keys, batchSize, records: options.quick ? 1_000 : records });
    }
    for (const batchSize of options.quick ? [100, 10_000] : [100, 1_000, 10_000]) {
      settings.push({ approach: Approach.Checkpoint, keys, batchSize, records: options.quick && batchSize < 1_000 ? 2_000 : records });
    }
  }
  const service = await startDynamoDBLocal();
  const cases: Omit<SinkCostCase, 'writeCapacityVsPerRecordAdd' | 'requestsVsPerRecordAdd'>[] = [];
  try {
    for (const [run, setting] of settings.entries()) cases.push(await runCase(service.endpoint, setting, run));
  } finally {
    await service.stop();
  }
  const perRecordAdd = (keys: number) => cases.find((c) => c.approach === Approach.PerRecordAdd && c.keys === keys)!;
  const round = (value: number) => Math.round(value * 1000) / 1000;
  const results: SinkCostCase[] = cases.map((c) => {
    const baseline = perRecordAdd(c.keys);
    return {
      ...c,
      writeCapacityVsPerRecordAdd: round(c.writeCapacityPerRecord / baseline.writeCapacityPerRecord),
      requestsVsPerRecordAdd: round(c.requests / c.records / (baseline.requests / baseline.records)),
    };
  });
  const goal = results.find((c) => c.approach === Approach.Checkpoint && c.keys === 100 && c.batchSize === 10_000)!;
  const baseline = perRecordAdd(100);
  const requestReduction = round(baseline.requests / baseline.records / (goal.requests / goal.records));
  return {
    method:
      'DynamoDB Local; write capacity computed from item sizes by DynamoDB\'s published rules (standard write: 1 unit per started KB; ' +
      'transactional: 2 per started KB and item), not from DynamoDB Local\'s ConsumedCapacity; cancelled transactions left out',
    results,
    goals: {
      capacityRatio: goal.writeCapacityVsPerRecordAdd,
      capacityMet: goal.writeCapacityVsPerRecordAdd <= GOAL_CAPACITY,
      requestReduction,
      requestsMet: requestReduction >= GOAL_REQUESTS,
    },
  };
}
