/**
 * Normalized records and effects for sink tests. Sinks read only provenance (stream ARN, recordId), so these are
 * built directly instead of going through the decoders.
 */
import type { DynamoDBStreamRecord, KinesisStreamRecord, Payload, StreamRecord } from '../../src/runtime/model';
import type { AddEffect, RecordEffects } from '../../src/runtime/types';

const PAYLOAD: Payload = {
  bytes: new Uint8Array(),
  gzipped: false,
  text: () => '',
  json: () => null,
};

export function kinesisArn(stream: string): string {
  return `arn:aws:kinesis:us-east-1:123456789012:stream/${stream}`;
}

export function dynamodbArn(table: string): string {
  return `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/stream/2026-01-01T00:00:00.000`;
}

/** A Kinesis user record; `sub` makes it the KPL sub-record of that index. */
export function kinesisRecord(options: { stream?: string; shard?: string; sequence: number; sub?: number }): KinesisStreamRecord {
  const stream = options.stream ?? 'Lab-Stream';
  const shardId = options.shard ?? 'shardId-000000000000';
  const sequenceNumber = String(49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n + BigInt(options.sequence));
  const eventID = `${shardId}:${sequenceNumber}`;
  return {
    source: 'aws:kinesis',
    kind: 'kinesis-record',
    eventID,
    streamArn: kinesisArn(stream),
    streamName: stream,
    shardId,
    partitionKey: `pk-${options.sequence % 3}`,
    sequenceNumber,
    subSequenceNumber: options.sub,
    position: options.sequence,
    arrivalTime: 1_767_225_600_000 + options.sequence,
    awsRegion: 'us-east-1',
    recordId: options.sub === undefined ? eventID : `${eventID}#${options.sub}`,
    raw: { eventID },
    explicitHashKey: undefined,
    aggregated: options.sub !== undefined,
    payload: PAYLOAD,
  };
}

/** A DynamoDB stream record (its eventID does not name a shard). */
export function dynamodbRecord(options: { table?: string; eventID: string; sequence: number }): DynamoDBStreamRecord {
  const table = options.table ?? 'GameScoreRecords';
  return {
    source: 'aws:dynamodb',
    kind: 'insert',
    eventID: options.eventID,
    streamArn: dynamodbArn(table),
    tableName: table,
    shardId: undefined,
    partitionKey: `{"RecordID":${options.sequence}}`,
    sequenceNumber: String(4_421_584_500_000_000_017_450_439_091n + BigInt(options.sequence)),
    subSequenceNumber: undefined,
    position: options.sequence,
    arrivalTime: 1_767_225_600_000 + options.sequence,
    awsRegion: 'us-east-1',
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
  const { source, eventID, streamArn, shardId, partitionKey, sequenceNumber, subSequenceNumber } = record;
  return {
    type: 'add',
    provenance: { source, eventID, streamArn, shardId, partitionKey, sequenceNumber, subSequenceNumber },
    table,
    key,
    add: amounts,
  };
}

export function effectsOf(record: StreamRecord, ...effects: AddEffect[]): RecordEffects<AddEffect> {
  return { record, effects };
}
