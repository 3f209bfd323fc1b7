/**
 * Lambda-shaped stream records: what the event source mapping reads from a delivered record (sequence number,
 * arrival time, shard), and how records read through the Kinesis / DynamoDB Streams APIs become the records
 * Lambda would deliver.
 */
import type { _Record as StreamsRecord, AttributeValue as StreamsAttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { _Record as KinesisApiRecord } from '@aws-sdk/client-kinesis';
import type {
  AttributeValue as LambdaAttributeValue,
  DynamoDBRecord,
  KinesisStreamRecord as LambdaKinesisRecord,
} from 'aws-lambda';
import type { StreamEvent } from '../runtime/types';
import { shardIdFromEventId } from '../runtime/kinesis';
import { isObject, type RawObject } from '../runtime/record-fields';
import { LOCAL_ACCOUNT_ID } from './lambda-context';

export type LambdaStreamRecord = StreamEvent['Records'][number];

/** What the event source mapping needs to know about one delivered record. */
export interface RecordPosition {
  /** Undefined only for malformed recordings; Lambda never delivers such a record. */
  readonly sequenceNumber: string | undefined;
  /** Approximate arrival (Kinesis) or creation (DynamoDB) time, epoch milliseconds. */
  readonly arrivalTime: number | undefined;
  readonly source: 'aws:kinesis' | 'aws:dynamodb' | undefined;
  readonly streamArn: string | undefined;
  /** Kinesis: parsed from eventID (`<shardId>:<sequenceNumber>`); DynamoDB records do not name their shard. */
  readonly shardId: string | undefined;
}

function stringField(value: RawObject, key: string): string | undefined {
  const field = value[key];
  return typeof field === 'string' ? field : undefined;
}

function secondsToMillis(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value * 1000) : undefined;
}

/** Reads a delivered record defensively: recordings may hold malformed records on purpose (bad-input cases). */
export function recordPosition(record: unknown): RecordPosition {
  if (!isObject(record)) {
    return { sequenceNumber: undefined, arrivalTime: undefined, source: undefined, streamArn: undefined, shardId: undefined };
  }
  const eventSource = stringField(record, 'eventSource');
  const streamArn = stringField(record, 'eventSourceARN');
  const kinesis = record.kinesis;
  if (eventSource === 'aws:kinesis' || (eventSource === undefined && isObject(kinesis))) {
    const payload = isObject(kinesis) ? kinesis : {};
    const eventID = stringField(record, 'eventID');
    return {
      sequenceNumber: stringField(payload, 'sequenceNumber'),
      arrivalTime: secondsToMillis(payload.approximateArrivalTimestamp),
      source: 'aws:kinesis',
      streamArn,
      shardId: eventID === undefined ? undefined : shardIdFromEventId(eventID),
    };
  }
  const dynamodb = isObject(record.dynamodb) ? record.dynamodb : {};
  return {
    sequenceNumber: stringField(dynamodb, 'SequenceNumber'),
    arrivalTime: secondsToMillis(dynamodb.ApproximateCreationDateTime),
    source: eventSource === 'aws:dynamodb' || isObject(record.dynamodb) ? 'aws:dynamodb' : undefined,
    streamArn,
    shardId: undefined,
  };
}

/** Builds the record Lambda delivers for a record read with Kinesis GetRecords. Lambda does not deaggregate KPL. */
export function lambdaKinesisRecord(
  record: KinesisApiRecord,
  context: { readonly shardId: string; readonly streamArn: string; readonly region: string },
): LambdaKinesisRecord {
  const sequenceNumber = record.SequenceNumber ?? '';
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${context.shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/shardflow-local`,
    awsRegion: context.region,
    eventSourceARN: context.streamArn,
  };
}

/** The JSON form of an AttributeValue: what Lambda puts in the event (binary as base64). */
function lambdaAttributeValue(value: StreamsAttributeValue): LambdaAttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map((bytes) => Buffer.from(bytes).toString('base64')) };
  if (value.M !== undefined) return { M: lambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(lambdaAttributeValue) };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  throw new Error(`DynamoDB Streams returned an attribute value of unknown type: ${JSON.stringify(value)}.`);
}

/** The JSON form of an item (AttributeValue map), as Lambda puts it in the event. */
export function lambdaImage(image: Record<string, StreamsAttributeValue>): Record<string, LambdaAttributeValue> {
  const result: Record<string, LambdaAttributeValue> = {};
  for (const [name, value] of Object.entries(image)) {
    // An attribute may be called "__proto__"; plain assignment would set the prototype instead.
    Object.defineProperty(result, name, { value: lambdaAttributeValue(value), enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/** Builds the record Lambda delivers for a record read with DynamoDB Streams GetRecords. */
export function lambdaDynamoDBRecord(record: StreamsRecord, context: { readonly streamArn: string }): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const result: DynamoDBRecord = {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: record.awsRegion,
    dynamodb: {
      // The API returns epoch seconds; the SDK turns them into a Date, Lambda delivers the number.
      ...(stream.ApproximateCreationDateTime !== undefined && {
        ApproximateCreationDateTime: stream.ApproximateCreationDateTime.getTime() / 1000,
      }),
      ...(stream.Keys !== undefined && { Keys: lambdaImage(stream.Keys) }),
      ...(stream.NewImage !== undefined && { NewImage: lambdaImage(stream.NewImage) }),
      ...(stream.OldImage !== undefined && { OldImage: lambdaImage(stream.OldImage) }),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
    eventSourceARN: context.streamArn,
  };
  if (record.userIdentity !== undefined) {
    result.userIdentity = { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId };
  }
  return result;
}
