/**
 * Normalized records, effects and target tables for sink tests. Sinks read only provenance (stream ARN, recordId), so
 * these are built directly instead of going through the decoders.
 */
import type { TableDefinition } from '../../src/app/types';
import { provenanceOf, type DynamoDBStreamRecord, type KinesisStreamRecord, type Payload, type StreamRecord } from '../../src/runtime/model';
import type { AddEffect, RecordEffects } from '../../src/runtime/types';
import { DEFAULT_SHARD_ID, DEFAULT_STREAM_NAME, DEFAULT_TABLE_NAME, dynamodbStreamArn, kinesisStreamArn, REGION } from './factories';

const PAYLOAD: Payload = {
  bytes: new Uint8Array(),
  gzipped: false,
  text: () => '',
  json: () => null,
};

/** A Kinesis user record; `sub` makes it the KPL sub-record of that index. */
export function kinesisRecord(options: { stream?: string; shard?: string; sequence: number; sub?: number }): KinesisStreamRecord {
  const stream = options.stream ?? DEFAULT_STREAM_NAME;
  const shardId = options.shard ?? DEFAULT_SHARD_ID;
  const sequenceNumber = String(49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n + BigInt(options.sequence));
  const eventID = `${shardId}:${sequenceNumber}`;
  return {
    source: 'aws:kinesis',
    kind: 'kinesis-record',
    eventID,
    streamArn: kinesisStreamArn(stream),
    streamName: stream,
    shardId,
    partitionKey: `pk-${options.sequence % 3}`,
    sequenceNumber,
    subSequenceNumber: options.sub,
    position: options.sequence,
    arrivalTime: 1_767_225_600_000 + options.sequence,
    awsRegion: REGION,
    recordId: options.sub === undefined ? eventID : `${eventID}#${options.sub}`,
    raw: { eventID },
    explicitHashKey: undefined,
    aggregated: options.sub !== undefined,
    payload: PAYLOAD,
  };
}

/** A DynamoDB stream record (its eventID does not name a shard). */
export function dynamodbRecord(options: { table?: string; eventID: string; sequence: number }): DynamoDBStreamRecord {
  const table = options.table ?? DEFAULT_TABLE_NAME;
  return {
    source: 'aws:dynamodb',
    kind: 'insert',
    eventID: options.eventID,
    streamArn: dynamodbStreamArn(table),
    tableName: table,
    shardId: undefined,
    partitionKey: `{"RecordID":${options.sequence}}`,
    sequenceNumber: String(4_421_584_500_000_000_017_450_439_091n + BigInt(options.sequence)),
    subSequenceNumber: undefined,
    position: options.sequence,
    arrivalTime: 1_767_225_600_000 + options.sequence,
    awsRegion: REGION,
    recordId: options.eventID,
    raw: { eventID: options.eventID },
    viewType: 'NEW_AND_OLD_IMAGES',
    isTtlDelete: false,
    sizeBytes: undefined,
    keys: { RecordID: options.sequence },
    newImage: undefined,
    oldImage: undefined,
    payload: PAYLOAD,
  };
}

/** An AddEffect asked for by `record`. */
export function add(
  record: StreamRecord,
  table: string,
  key: Readonly<Record<string, string | number>>,
  amounts: Readonly<Record<string, number>>,
): AddEffect {
  return {
    type: 'add',
    provenance: provenanceOf(record),
    table,
    key,
    add: amounts,
  };
}

export function effectsOf(record: StreamRecord, ...effects: AddEffect[]): RecordEffects<AddEffect> {
  return { record, effects };
}

/** A target table keyed by one string attribute, for `useDynamoDBLocal({ tables })`. */
export function hashKeyTable(TableName: string, key: string): TableDefinition {
  return {
    TableName,
    KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  };
}
