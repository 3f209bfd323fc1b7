/**
 * The KPL aggregation format: magic bytes `f3 89 9a c2`, a protobuf `AggregatedRecord`, then the 16-byte MD5 of
 * the protobuf bytes. Lambda hands aggregates over as one record; the normalizer splits them into user records.
 *
 * ```proto
 * message AggregatedRecord {
 *   repeated string partition_key_table = 1;
 *   repeated string explicit_hash_key_table = 2;
 *   repeated Record records = 3;
 * }
 * message Record {
 *   required uint64 partition_key_index = 1;
 *   optional uint64 explicit_hash_key_index = 2;
 *   required bytes data = 3;
 *   repeated Tag tags = 4;  // { required string key = 1; optional string value = 2; } - read past, unused
 * }
 * ```
 * The protobuf reader is hand-written: the format uses four wire types and no dependency is needed. The writer is
 * kpl-writer.ts.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, decodeError, type ShardflowError } from './errors';

export const MAGIC = [0xf3, 0x89, 0x9a, 0xc2] as const;
const MAGIC_LENGTH = 4;
const DIGEST_LENGTH = 16;

export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;

/** One user record inside an aggregate. `data` is a view into the aggregate's bytes, not a copy. */
export interface KplUserRecord {
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  readonly data: Uint8Array;
}

/** Whether the bytes start with the KPL magic. Anything else is an ordinary record. */
export function isKplAggregate(bytes: Uint8Array): boolean {
  return (
    bytes.length >= MAGIC_LENGTH &&
    bytes[0] === MAGIC[0] &&
    bytes[1] === MAGIC[1] &&
    bytes[2] === MAGIC[2] &&
    bytes[3] === MAGIC[3]
  );
}

// Partition keys must be valid UTF-8 (protobuf `string`); a malformed one means a malformed aggregate.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Reader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    readonly recordId: string,
  ) {
    this.pos = start;
  }

  invalid(reason: string): ShardflowError {
    return decodeError(ErrorCode.InvalidKplAggregate, this.recordId, `the KPL aggregate ${reason}`);
  }

  varint(): number {
    // Exact up to 2^53; larger values are only ever compared against table sizes and lengths, which they exceed.
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw this.invalid(`is truncated inside a varint at byte ${this.pos}`);
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 128;
    }
    throw this.invalid(`has a varint longer than 10 bytes ending at byte ${this.pos}`);
  }

  /** Reads a length prefix and returns the end offset of the field it announces. */
  lengthDelimitedEnd(): number {
    const length = this.varint();
    if (length > this.end - this.pos) {
      throw this.invalid(`is truncated: a field of ${length} bytes at byte ${this.pos} runs past its end`);
    }
    return this.pos + length;
  }

  string(): string {
    const end = this.lengthDelimitedEnd();
    const start = this.pos;
    this.pos = end;
    try {
      return utf8.decode(this.buf.subarray(start, end));
    } catch {
      throw this.invalid(`has a string at byte ${start} that is not valid UTF-8`);
    }
  }

  skip(wireType: number, field: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.LengthDelimited:
        this.pos = this.lengthDelimitedEnd();
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        throw this.invalid(`uses unsupported wire type ${wireType} for field ${field} at byte ${this.pos}`);
    }
  }

  private advance(count: number): void {
    if (count > this.end - this.pos) throw this.invalid(`is truncated inside a fixed-width field at byte ${this.pos}`);
    this.pos += count;
  }

  /** Reads a field key; checks the wire type when the field is one the format defines. */
  key(expected: readonly number[]): { field: number; wireType: number } {
    const at = this.pos;
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) throw this.invalid(`has a field numbered 0 at byte ${at}`);
    const expectedWireType = expected[field];
    if (expectedWireType !== undefined && expectedWireType !== wireType) {
      throw this.invalid(`has field ${field} with wire type ${wireType} instead of ${expectedWireType} at byte ${at}`);
    }
    return { field, wireType };
  }
}

// Index = field number, value = the wire type the format uses for it.
const AGGREGATE_FIELDS = [-1, WireType.LengthDelimited, WireType.LengthDelimited, WireType.LengthDelimited];
const RECORD_FIELDS = [-1, WireType.Varint, WireType.Varint, WireType.LengthDelimited, WireType.LengthDelimited];

class UserRecord implements KplUserRecord {
  constructor(
    readonly partitionKey: string,
    readonly explicitHashKey: string | undefined,
    readonly data: Uint8Array,
  ) {}
}

interface RawRecord {
  readonly at: number;
  readonly partitionKeyIndex: number;
  readonly explicitHashKeyIndex: number | undefined;
  readonly data: Uint8Array;
}

function readRecord(reader: Reader, end: number): RawRecord {
  const at = reader.pos;
  let partitionKeyIndex: number | undefined;
  let explicitHashKeyIndex: number | undefined;
  let data: Uint8Array | undefined;
  while (reader.pos < end) {
    const { field, wireType } = reader.key(RECORD_FIELDS);
    if (field === 1) partitionKeyIndex = reader.varint();
    else if (field === 2) explicitHashKeyIndex = reader.varint();
    else if (field === 3) {
      const dataEnd = reader.lengthDelimitedEnd();
      data = reader.buf.subarray(reader.pos, dataEnd);
      reader.pos = dataEnd;
    } else reader.skip(wireType, field); // tags (field 4) and unknown fields: protobuf readers must skip them
    if (reader.pos > end) throw reader.invalid(`has a user record at byte ${at} whose fields overrun it`);
  }
  if (partitionKeyIndex === undefined) throw reader.invalid(`has a user record at byte ${at} without a partition key index`);
  if (data === undefined) throw reader.invalid(`has a user record at byte ${at} without data`);
  return { at, partitionKeyIndex, explicitHashKeyIndex, data };
}

/**
 * Splits a KPL aggregate into its user records, in order. Throws `INVALID_KPL_AGGREGATE` for a truncated or
 * malformed aggregate (including one without user records) and `KPL_CHECKSUM_MISMATCH` when the trailing MD5
 * does not match; both name `recordId`. Call only when `isKplAggregate(bytes)`.
 */
export function deaggregate(bytes: Uint8Array, recordId: string): KplUserRecord[] {
  const end = bytes.length - DIGEST_LENGTH;
  if (!isKplAggregate(bytes) || end < MAGIC_LENGTH) {
    throw decodeError(
      ErrorCode.InvalidKplAggregate,
      recordId,
      `the KPL aggregate is truncated: ${bytes.length} bytes cannot hold the magic bytes and the 16-byte MD5`,
    );
  }
  // Structure first, so a truncated aggregate is reported as truncated rather than as a checksum mismatch.
  const reader = new Reader(bytes, MAGIC_LENGTH, end, recordId);
  const partitionKeys: string[] = [];
  const explicitHashKeys: string[] = [];
  const raws: RawRecord[] = [];
  while (reader.pos < end) {
    const { field, wireType } = reader.key(AGGREGATE_FIELDS);
    if (field === 1) partitionKeys.push(reader.string());
    else if (field === 2) explicitHashKeys.push(reader.string());
    else if (field === 3) {
      const recordEnd = reader.lengthDelimitedEnd();
      raws.push(readRecord(reader, recordEnd));
    } else reader.skip(wireType, field); // unknown fields, skipped as protobuf requires
  }

  const digest = createHash('md5').update(bytes.subarray(MAGIC_LENGTH, end)).digest();
  for (let i = 0; i < DIGEST_LENGTH; i++) {
    if (digest[i] !== bytes[end + i]) {
      throw decodeError(
        ErrorCode.KplChecksumMismatch,
        recordId,
        `the KPL aggregate's trailing MD5 ${Buffer.from(bytes.subarray(end)).toString('hex')} does not match ` +
          `its protobuf bytes (MD5 ${digest.toString('hex')})`,
      );
    }
  }

  if (raws.length === 0) throw reader.invalid('contains no user records');
  const records = new Array<KplUserRecord>(raws.length);
  for (let i = 0; i < raws.length; i++) {
    const raw = raws[i]!;
    const partitionKey = partitionKeys[raw.partitionKeyIndex];
    if (partitionKey === undefined) {
      throw reader.invalid(
        `has user record ${i} with partition key index ${raw.partitionKeyIndex}, ` +
          `but the partition key table has ${partitionKeys.length} entries`,
      );
    }
    let explicitHashKey: string | undefined;
    if (raw.explicitHashKeyIndex !== undefined) {
      explicitHashKey = explicitHashKeys[raw.explicitHashKeyIndex];
      if (explicitHashKey === undefined) {
        throw reader.invalid(
          `has user record ${i} with explicit hash key index ${raw.explicitHashKeyIndex}, ` +
            `but the explicit hash key table has ${explicitHashKeys.length} entries`,
        );
      }
    }
    records[i] = new UserRecord(partitionKey, explicitHashKey, raw.data);
  }
  return records;
}
