/**
 * DynamoDB stream records and events as Lambda delivers them: INSERT, MODIFY and REMOVE in every view type, TTL
 * deletes, from plain items or from raw AttributeValue images.
 */
import { createHash } from 'node:crypto';
import { marshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { lambdaImage } from '../local/lambda-records';
import { StreamViewType } from '../runtime/model';
import { FACTORY_DEFAULTS } from './defaults';
import { nextTick, sequenceNumberAt, TIMELINE_START_SECONDS } from './timeline';

// A real DynamoDB Streams sequence number (28 digits); each record adds its tick to it.
const DYNAMODB_SEQUENCE_BASE = 4_421_584_500_000_000_017_450_439_091n;

/** What DynamoDB Streams reports: an item was put, changed or deleted. */
export type DynamoDBEventName = 'INSERT' | 'MODIFY' | 'REMOVE';
/** What a table's stream carries of each change: `KEYS_ONLY`, `NEW_IMAGE`, `OLD_IMAGE` or `NEW_AND_OLD_IMAGES`. */
export type DynamoDBViewType = StreamViewType;
/** An item as plain values (numbers, strings, `Set`s, `Uint8Array`s, nested maps and lists). */
export type DynamoDBItem = Record<string, NativeAttributeValue>;
/** An item as it travels in a stream record: AttributeValues, binaries as base64. */
export type RawItem = Record<string, AttributeValue>;

/**
 * The ARN of a table's stream in the factories' account and region.
 * @param table - The table's name; 'test-table' when left out.
 * @example
 * expect(record.streamArn).toBe(dynamodbStreamArn('Carts'));
 */
export function dynamodbStreamArn(table: string = FACTORY_DEFAULTS.tableName): string {
  return `arn:aws:dynamodb:${FACTORY_DEFAULTS.region}:${FACTORY_DEFAULTS.accountId}:table/${table}/stream/2026-01-01T00:00:00.000`;
}

/** Everything about a DynamoDB stream record but its keys and images. */
export interface DynamoDBRecordFields {
  readonly eventName: DynamoDBEventName;
  /** @default 'test-table' */
  readonly table?: string;
  /** @default 'NEW_AND_OLD_IMAGES' */
  readonly viewType?: DynamoDBViewType;
  /** @default the next of a counter over a real 28-digit sequence number, so later records sort later */
  readonly sequenceNumber?: string;
  /**
   * A delete made by DynamoDB's TTL process: adds the `userIdentity` such records carry. Use it with REMOVE.
   * @default false
   */
  readonly ttlDelete?: boolean;
  /** @default an MD5-looking hex id from the counter */
  readonly eventID?: string;
  /** `ApproximateCreationDateTime`, epoch seconds. @default 2026-01-01 plus the counter in seconds */
  readonly creationSeconds?: number;
}

export interface DynamoDBRecordOptions extends DynamoDBRecordFields {
  /** The item's primary key as plain values. */
  readonly keys: DynamoDBItem;
  /**
   * The item after the change. Left out when the view type or the event carries no new image (REMOVE, KEYS_ONLY,
   * OLD_IMAGE).
   * @default `keys`
   */
  readonly newImage?: DynamoDBItem;
  /**
   * The item before the change. Left out when the view type or the event carries no old image (INSERT, KEYS_ONLY,
   * NEW_IMAGE).
   * @default `keys`
   */
  readonly oldImage?: DynamoDBItem;
}

export interface RawDynamoDBRecordOptions extends DynamoDBRecordFields {
  /** Keys as AttributeValues, used as given (they may be invalid on purpose). */
  readonly keys: RawItem;
  /** Included exactly when given, whatever the view type and event say. @default none */
  readonly newImage?: RawItem;
  /** Included exactly when given, whatever the view type and event say. @default none */
  readonly oldImage?: RawItem;
}

const MARSHALL_OPTIONS = { convertClassInstanceToMap: true, removeUndefinedValues: true } as const;

/**
 * A plain item as AttributeValues, the way a stream record carries them (binaries as base64), for raw images.
 * @example
 * rawDynamodbRecord({ eventName: 'INSERT', keys: marshallItem({ Id: 1 }), newImage: { ...marshallItem({ Id: 1 }), Score: { N: 'abc' } } });
 */
export function marshallItem(item: DynamoDBItem): RawItem {
  return lambdaImage(marshall(item, MARSHALL_OPTIONS));
}

const VIEWS_WITH_NEW_IMAGE: readonly DynamoDBViewType[] = [StreamViewType.NewImage, StreamViewType.NewAndOldImages];
const VIEWS_WITH_OLD_IMAGE: readonly DynamoDBViewType[] = [StreamViewType.OldImage, StreamViewType.NewAndOldImages];

/**
 * A DynamoDB stream record as Lambda delivers it, from plain items. It carries the images its view type and event
 * carry, and no others.
 * @example
 * dynamodbRecord({ eventName: 'INSERT', table: 'Carts', keys: { CartId: 'c-1' }, newImage: { CartId: 'c-1', Items: 2 } });
 * dynamodbRecord({ eventName: 'REMOVE', keys: { CartId: 'c-1' }, viewType: 'KEYS_ONLY', ttlDelete: true });
 */
export function dynamodbRecord(options: DynamoDBRecordOptions): DynamoDBRecord {
  const { keys, newImage, oldImage, ...fields } = options;
  const viewType = options.viewType ?? StreamViewType.NewAndOldImages;
  const withNew = VIEWS_WITH_NEW_IMAGE.includes(viewType) && options.eventName !== 'REMOVE';
  const withOld = VIEWS_WITH_OLD_IMAGE.includes(viewType) && options.eventName !== 'INSERT';
  return rawDynamodbRecord({
    ...fields,
    viewType,
    keys: marshallItem(keys),
    ...(withNew ? { newImage: marshallItem(newImage ?? keys) } : {}),
    ...(withOld ? { oldImage: marshallItem(oldImage ?? keys) } : {}),
  });
}

/**
 * A DynamoDB stream record from AttributeValues, with no checks: for records a real stream would not deliver, such
 * as invalid images or an image the view type does not carry.
 * @example
 * rawDynamodbRecord({ eventName: 'INSERT', keys: { Id: { N: 'not a number' } } });
 */
export function rawDynamodbRecord(options: RawDynamoDBRecordOptions): DynamoDBRecord {
  const tick = nextTick();
  const images = {
    Keys: options.keys,
    ...(options.newImage === undefined ? {} : { NewImage: options.newImage }),
    ...(options.oldImage === undefined ? {} : { OldImage: options.oldImage }),
  };
  return {
    eventID: options.eventID ?? createHash('md5').update(`event-${tick}`).digest('hex'),
    eventName: options.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: FACTORY_DEFAULTS.region,
    dynamodb: {
      ApproximateCreationDateTime: options.creationSeconds ?? TIMELINE_START_SECONDS + tick,
      ...images,
      SequenceNumber: options.sequenceNumber ?? sequenceNumberAt(DYNAMODB_SEQUENCE_BASE, tick),
      SizeBytes: Buffer.byteLength(JSON.stringify(images)),
      StreamViewType: options.viewType ?? StreamViewType.NewAndOldImages,
    },
    eventSourceARN: dynamodbStreamArn(options.table),
    ...(options.ttlDelete === true ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } } : {}),
  };
}

/**
 * A DynamoDB Streams event: the records Lambda hands one invocation.
 * @example
 * await handler(dynamodbEvent([dynamodbRecord({ eventName: 'INSERT', keys: { Id: 1 } })]), context);
 */
export function dynamodbEvent(records: readonly DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: [...records] };
}
