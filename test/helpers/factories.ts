/**
 * Factories for raw Lambda stream records, shaped like the samples in the Lambda developer guide.
 * Every call without an explicit sequence number gets the next one of a module-wide counter, so records built
 * in order have increasing sequence numbers, like a real shard.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type {
  AttributeValue,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { marshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { lambdaImage } from '../../src/local/lambda-records';
import { aggregate } from '../../src/runtime/kpl';

export const ACCOUNT_ID = '123456789012';
export const REGION = 'us-east-1';
export const DEFAULT_SHARD_ID = 'shardId-000000000000';
export const DEFAULT_STREAM_NAME = 'Lab-Stream';
export const DEFAULT_TABLE_NAME = 'GameScoreRecords';
/** 2026-01-01T00:00:00Z in epoch seconds. */
const BASE_SECONDS = 1_767_225_600;

// A real Kinesis sequence number (56 digits); each record adds to it.
const KINESIS_SEQUENCE_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;
// A real DynamoDB Streams sequence number (28 digits).
const DYNAMODB_SEQUENCE_BASE = 4_421_584_500_000_000_017_450_439_091n;
let counter = 0;

function next(): number {
  return ++counter;
}

export function kinesisStreamArn(streamName: string = DEFAULT_STREAM_NAME): string {
  return `arn:aws:kinesis:${REGION}:${ACCOUNT_ID}:stream/${streamName}`;
}

export function dynamodbStreamArn(table: string = DEFAULT_TABLE_NAME): string {
  return `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/${table}/stream/2026-01-01T00:00:00.000`;
}

export interface KinesisRecordOptions {
  /** Raw bytes, or a string sent as UTF-8. Exclusive with `json` and `base64`. */
  readonly data?: Uint8Array | string;
  /** A value sent as its JSON text. */
  readonly json?: unknown;
  /** The exact `kinesis.data` field, not re-encoded (for invalid base64). Exclusive with `data` and `json`. */
  readonly base64?: string;
  /** @default 'pk-1' */
  readonly partitionKey?: string;
  /** @default the next of a counter over a 56-digit base */
  readonly sequenceNumber?: string;
  /** @default 'shardId-000000000000' */
  readonly shardId?: string;
  /** @default 'Lab-Stream' */
  readonly streamName?: string;
  /** Epoch seconds with a fraction. @default 2026-01-01 plus the counter in milliseconds */
  readonly arrivalSeconds?: number;
  /** gzip the data before base64, as CloudWatch Logs subscriptions do. @default false */
  readonly gzip?: boolean;
}

function payloadBytes(opts: KinesisRecordOptions): Uint8Array {
  if (opts.data !== undefined) return typeof opts.data === 'string' ? Buffer.from(opts.data, 'utf8') : opts.data;
  return Buffer.from(JSON.stringify(opts.json === undefined ? {} : opts.json), 'utf8');
}

/** A Kinesis record as Lambda delivers it. Data defaults to the JSON `{}`. */
export function kinesisRecord(opts: KinesisRecordOptions = {}): KinesisStreamRecord {
  const n = next();
  const sequenceNumber = opts.sequenceNumber ?? (KINESIS_SEQUENCE_BASE + BigInt(n)).toString();
  const shardId = opts.shardId ?? DEFAULT_SHARD_ID;
  let data = opts.base64;
  if (data === undefined) {
    const bytes = payloadBytes(opts);
    data = Buffer.from(opts.gzip === true ? gzipSync(bytes) : bytes).toString('base64');
  }
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: opts.partitionKey ?? 'pk-1',
      sequenceNumber,
      data,
      approximateArrivalTimestamp: opts.arrivalSeconds ?? BASE_SECONDS + n / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${ACCOUNT_ID}:role/lambda-role`,
    awsRegion: REGION,
    eventSourceARN: kinesisStreamArn(opts.streamName),
  };
}

export function kinesisEvent(records: readonly KinesisStreamRecord[]): KinesisStreamEvent {
  return { Records: [...records] };
}

export interface KplUserRecordInput {
  readonly partitionKey: string;
  /** Raw bytes, or a string sent as UTF-8. */
  readonly data: Uint8Array | string;
  readonly explicitHashKey?: string;
}

/**
 * A Kinesis record whose data is a KPL aggregate of `userRecords`. The record's own partition key defaults to
 * the first user record's, as the KPL does.
 */
export function kplAggregateRecord(
  userRecords: readonly KplUserRecordInput[],
  opts: Omit<KinesisRecordOptions, 'data' | 'json' | 'base64' | 'gzip'> = {},
): KinesisStreamRecord {
  const data = aggregate(
    userRecords.map((record) => ({
      partitionKey: record.partitionKey,
      ...(record.explicitHashKey === undefined ? {} : { explicitHashKey: record.explicitHashKey }),
      data: typeof record.data === 'string' ? Buffer.from(record.data, 'utf8') : record.data,
    })),
  );
  return kinesisRecord({ ...opts, partitionKey: opts.partitionKey ?? userRecords[0]?.partitionKey ?? 'pk-1', data });
}

export type DynamoDBEventName = 'INSERT' | 'MODIFY' | 'REMOVE';
export type DynamoDBViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
export type DynamoDBItem = Record<string, NativeAttributeValue>;
/** An item as it travels in a stream record: AttributeValues with base64 binaries. */
export type RawItem = Record<string, AttributeValue>;

export interface DynamoDBRecordOptions {
  readonly eventName: DynamoDBEventName;
  /** @default 'GameScoreRecords' */
  readonly table?: string;
  /** The item's primary key as plain values. */
  readonly keys: DynamoDBItem;
  /** @default `keys` (when the view type and event carry a new image) */
  readonly newImage?: DynamoDBItem;
  /** @default `keys` (when the view type and event carry an old image) */
  readonly oldImage?: DynamoDBItem;
  /** @default 'NEW_AND_OLD_IMAGES' */
  readonly viewType?: DynamoDBViewType;
  /** @default the next of a counter over a 28-digit base */
  readonly sequenceNumber?: string;
  /** A delete made by DynamoDB's TTL process (adds its userIdentity). Only meaningful with REMOVE. */
  readonly ttlDelete?: boolean;
  /** @default an MD5-looking hex id from the counter */
  readonly eventID?: string;
  /** Epoch seconds. @default 2026-01-01 plus the counter */
  readonly creationSeconds?: number;
}

const MARSHALL_OPTIONS = { convertClassInstanceToMap: true, removeUndefinedValues: true } as const;

type MarshalledValue = ReturnType<typeof marshall>;

function toStreamItem(item: Record<string, MarshalledValue>): RawItem {
  // The local runner's conversion: binaries as base64, and an attribute named "__proto__" stays an attribute.
  return lambdaImage(item);
}

/** Marshalls a plain item into the AttributeValue form of a stream record (binaries as base64). */
export function marshallItem(item: DynamoDBItem): RawItem {
  return toStreamItem(marshall(item, MARSHALL_OPTIONS) as Record<string, MarshalledValue>);
}

/** A DynamoDB stream record as Lambda delivers it. */
export function dynamodbRecord(opts: DynamoDBRecordOptions): DynamoDBRecord {
  const viewType = opts.viewType ?? 'NEW_AND_OLD_IMAGES';
  const withNew = (viewType === 'NEW_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES') && opts.eventName !== 'REMOVE';
  const withOld = (viewType === 'OLD_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES') && opts.eventName !== 'INSERT';
  return rawDynamodbRecord({
    eventName: opts.eventName,
    ...(opts.table === undefined ? {} : { table: opts.table }),
    keys: marshallItem(opts.keys),
    ...(withNew ? { newImage: marshallItem(opts.newImage ?? opts.keys) } : {}),
    ...(withOld ? { oldImage: marshallItem(opts.oldImage ?? opts.keys) } : {}),
    viewType,
    ...(opts.sequenceNumber === undefined ? {} : { sequenceNumber: opts.sequenceNumber }),
    ...(opts.ttlDelete === undefined ? {} : { ttlDelete: opts.ttlDelete }),
    ...(opts.eventID === undefined ? {} : { eventID: opts.eventID }),
    ...(opts.creationSeconds === undefined ? {} : { creationSeconds: opts.creationSeconds }),
  });
}

export interface RawDynamoDBRecordOptions
  extends Omit<DynamoDBRecordOptions, 'keys' | 'newImage' | 'oldImage' | 'viewType'> {
  /** Already-marshalled keys, used as given (may be invalid on purpose). */
  readonly keys: RawItem;
  /** Included exactly when given, whatever the view type says. */
  readonly newImage?: RawItem;
  readonly oldImage?: RawItem;
  /** @default 'NEW_AND_OLD_IMAGES' */
  readonly viewType?: DynamoDBViewType;
}

/** Escape hatch: a DynamoDB stream record from already-marshalled AttributeValues, with no checks. */
export function rawDynamodbRecord(opts: RawDynamoDBRecordOptions): DynamoDBRecord {
  const n = next();
  const dynamodb: NonNullable<DynamoDBRecord['dynamodb']> = {
    ApproximateCreationDateTime: opts.creationSeconds ?? BASE_SECONDS + n,
    Keys: opts.keys,
    ...(opts.newImage === undefined ? {} : { NewImage: opts.newImage }),
    ...(opts.oldImage === undefined ? {} : { OldImage: opts.oldImage }),
    SequenceNumber: opts.sequenceNumber ?? (DYNAMODB_SEQUENCE_BASE + BigInt(n)).toString(),
    SizeBytes: 0,
    StreamViewType: opts.viewType ?? 'NEW_AND_OLD_IMAGES',
  };
  dynamodb.SizeBytes = Buffer.byteLength(JSON.stringify({ Keys: dynamodb.Keys, NewImage: dynamodb.NewImage, OldImage: dynamodb.OldImage }));
  return {
    eventID: opts.eventID ?? createHash('md5').update(`event-${n}`).digest('hex'),
    eventName: opts.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: REGION,
    dynamodb,
    eventSourceARN: dynamodbStreamArn(opts.table),
    ...(opts.ttlDelete === true ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } } : {}),
  };
}

export function dynamodbEvent(records: readonly DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: [...records] };
}
