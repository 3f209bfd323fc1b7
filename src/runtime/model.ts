/**
 * The one event model. Kinesis records (base64, gzip, KPL-aggregated) and DynamoDB stream records (all four
 * view types, TTL deletes) are normalized into `StreamRecord`, so processors never care where a record came from.
 */
import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';

export const RecordSource = {
  Kinesis: 'aws:kinesis',
  DynamoDB: 'aws:dynamodb',
} as const;
export type RecordSource = (typeof RecordSource)[keyof typeof RecordSource];

export const RecordKind = {
  /** A Kinesis user record (one per KPL sub-record when aggregated). */
  KinesisRecord: 'kinesis-record',
  Insert: 'insert',
  Modify: 'modify',
  Remove: 'remove',
} as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

export const StreamViewType = {
  KeysOnly: 'KEYS_ONLY',
  NewImage: 'NEW_IMAGE',
  OldImage: 'OLD_IMAGE',
  NewAndOldImages: 'NEW_AND_OLD_IMAGES',
} as const;
export type StreamViewType = (typeof StreamViewType)[keyof typeof StreamViewType];

/**
 * An unmarshalled DynamoDB item. Numbers within JavaScript's safe range are `number`; integers beyond it are
 * `bigint`; decimals with more than 15 significant digits are `NumberValue` (exact string), so no number loses
 * precision silently. Sets are `Set`, binaries `Uint8Array`.
 */
export type Item = Record<string, NativeAttributeValue>;

/** Payload bytes with lazy, cached decoders. Decoding errors are permanent `ShardflowError`s naming the record. */
export interface Payload {
  /** The decoded bytes: after base64, after gunzip when the data was gzip, the user record's data under KPL. */
  readonly bytes: Uint8Array;
  /** Whether the bytes on the wire were gzip-compressed (detected by magic bytes `1f 8b`). */
  readonly gzipped: boolean;
  /** UTF-8 text; throws `INVALID_UTF8` on malformed input. */
  text(): string;
  /** JSON.parse of `text()`; throws `INVALID_JSON` when it is not JSON. */
  json(): unknown;
}

/** Where a record came from: enough to name it in errors, faults, dedupe markers and failure reports. */
export interface Provenance {
  readonly source: RecordSource;
  readonly eventID: string;
  /** Kinesis stream ARN, or DynamoDB stream ARN. */
  readonly streamArn: string;
  /** Kinesis shard id (from eventID); DynamoDB stream records do not name their shard. */
  readonly shardId: string | undefined;
  readonly partitionKey: string;
  /** Sequence number as delivered: a decimal string; compare with `compareSequenceNumbers`. */
  readonly sequenceNumber: string;
  /** KPL sub-record index; undefined for records that were not aggregated. */
  readonly subSequenceNumber: number | undefined;
}

export interface RecordBase extends Provenance {
  /** Position of the (parent) record in the delivered batch, from 0. */
  readonly position: number;
  /** Approximate arrival (Kinesis) or creation (DynamoDB) time, epoch milliseconds. */
  readonly arrivalTime: number;
  readonly awsRegion: string | undefined;
  /** A stable id for this normalized record: `eventID`, plus `#<subSequenceNumber>` for KPL sub-records. */
  readonly recordId: string;
  /** The record as Lambda delivered it, untouched. Do not modify it: some record fields are getters over it. */
  readonly raw: unknown;
}

export interface KinesisStreamRecord extends RecordBase {
  readonly source: typeof RecordSource.Kinesis;
  readonly kind: typeof RecordKind.KinesisRecord;
  readonly shardId: string;
  /** Stream name parsed from the ARN. */
  readonly streamName: string;
  readonly explicitHashKey: string | undefined;
  readonly aggregated: boolean;
  readonly payload: Payload;
}

export interface DynamoDBStreamRecord extends RecordBase {
  readonly source: typeof RecordSource.DynamoDB;
  readonly kind: typeof RecordKind.Insert | typeof RecordKind.Modify | typeof RecordKind.Remove;
  /** Table name parsed from the stream ARN. */
  readonly tableName: string;
  readonly viewType: StreamViewType;
  /** True for deletes made by DynamoDB's TTL process (userIdentity principal dynamodb.amazonaws.com). */
  readonly isTtlDelete: boolean;
  readonly sizeBytes: number | undefined;
  readonly keys: Item;
  /**
   * The item after the change. `undefined` only when the event has none (REMOVE). Reading it under a view
   * type that does not carry new images (KEYS_ONLY, OLD_IMAGE) throws `IMAGE_NOT_IN_VIEW` naming the view type.
   */
  readonly newImage: Item | undefined;
  /** The item before the change. `undefined` only when the event has none (INSERT); throws like `newImage`. */
  readonly oldImage: Item | undefined;
  /** The raw `dynamodb` section as JSON bytes (what DynamoDB filter patterns match). */
  readonly payload: Payload;
}

export type StreamRecord = KinesisStreamRecord | DynamoDBStreamRecord;

/** Lambda's partial batch response for Kinesis and DynamoDB event source mappings. */
export interface BatchItemFailure {
  readonly itemIdentifier: string;
}
export interface PartialBatchResponse {
  batchItemFailures: BatchItemFailure[];
}

/**
 * Compares two sequence numbers as integers (they can exceed 128 bits; plain string order is wrong). Leading
 * zeros are ignored: DynamoDB Local zero-pads its sequence numbers, AWS does not.
 */
export function compareSequenceNumbers(a: string, b: string): number {
  const aStart = firstSignificantDigit(a);
  const bStart = firstSignificantDigit(b);
  const aLength = a.length - aStart;
  const bLength = b.length - bStart;
  if (aLength !== bLength) return aLength < bLength ? -1 : 1;
  for (let i = 0; i < aLength; i++) {
    const difference = a.charCodeAt(aStart + i) - b.charCodeAt(bStart + i);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return 0;
}

function firstSignificantDigit(sequenceNumber: string): number {
  let index = 0;
  while (index < sequenceNumber.length - 1 && sequenceNumber.charCodeAt(index) === 48) index++;
  return index;
}

/** Sequence number left-padded to a fixed width so string order equals numeric order (e.g. in DynamoDB). */
export function paddedSequenceNumber(sequenceNumber: string): string {
  return sequenceNumber.slice(firstSignificantDigit(sequenceNumber)).padStart(130, '0');
}

/**
 * A record's provenance as plain data, copied once: for faults, which outlive the batch and are stored and
 * serialized field by field.
 */
export function provenanceData(record: StreamRecord): Provenance {
  return {
    source: record.source,
    eventID: record.eventID,
    streamArn: record.streamArn,
    shardId: record.shardId,
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: record.subSequenceNumber,
  };
}

/**
 * A record's provenance as a view: each field reads through to the record, which keeps what they need (a record's
 * fields are getters over the raw record). Every processor makes one per effect, and a batch whose sink takes it in
 * one `apply` keeps them all until then: a copy of seven fields (and, for a DynamoDB record, its canonical key
 * string, made whether anyone reads it or not) cost that batch a sixth of its time in bench/, the view one small
 * object. `toJSON` gives the plain fields, so logs and serialized effects show them as before.
 */
class RecordProvenance implements Provenance {
  constructor(readonly record: StreamRecord) {}

  get source(): RecordSource {
    return this.record.source;
  }

  get eventID(): string {
    return this.record.eventID;
  }

  get streamArn(): string {
    return this.record.streamArn;
  }

  get shardId(): string | undefined {
    return this.record.shardId;
  }

  get partitionKey(): string {
    return this.record.partitionKey;
  }

  get sequenceNumber(): string {
    return this.record.sequenceNumber;
  }

  get subSequenceNumber(): number | undefined {
    return this.record.subSequenceNumber;
  }

  toJSON(): Provenance {
    return provenanceData(this.record);
  }
}

/**
 * The provenance of an effect: where the record that asked for it came from, as a view of the record (see
 * `RecordProvenance`); `JSON.stringify` shows its fields. Spreading it (`{ ...provenance }`) does not: copy the
 * fields you need.
 */
export function provenanceOf(record: StreamRecord): Provenance {
  return new RecordProvenance(record);
}
