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
import { Buffer, isUtf8 } from 'node:buffer';
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

  /**
   * Reads a `string` field and returns its start; it ends where the reader is now. Partition keys must be valid
   * UTF-8 (protobuf `string`): a malformed one means a malformed aggregate.
   */
  string(): number {
    const end = this.lengthDelimitedEnd();
    const start = this.pos;
    this.pos = end;
    if (!isUtf8(this.buf.subarray(start, end))) throw this.invalid(`has a string at byte ${start} that is not valid UTF-8`);
    return start;
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
  readonly partitionKeyIndex: number;
  readonly explicitHashKeyIndex: number | undefined;
  readonly dataStart: number;
  readonly dataEnd: number;
}

function readRecord(reader: Reader, end: number): RawRecord {
  const at = reader.pos;
  let partitionKeyIndex: number | undefined;
  let explicitHashKeyIndex: number | undefined;
  let dataStart = -1;
  let dataEnd = -1;
  while (reader.pos < end) {
    const { field, wireType } = reader.key(RECORD_FIELDS);
    if (field === 1) partitionKeyIndex = reader.varint();
    else if (field === 2) explicitHashKeyIndex = reader.varint();
    else if (field === 3) {
      dataEnd = reader.lengthDelimitedEnd();
      dataStart = reader.pos;
      reader.pos = dataEnd;
    } else reader.skip(wireType, field); // tags (field 4) and unknown fields: protobuf readers must skip them
    if (reader.pos > end) throw reader.invalid(`has a user record at byte ${at} whose fields overrun it`);
  }
  if (partitionKeyIndex === undefined) throw reader.invalid(`has a user record at byte ${at} without a partition key index`);
  if (dataStart === -1) throw reader.invalid(`has a user record at byte ${at} without data`);
  return { partitionKeyIndex, explicitHashKeyIndex, dataStart, dataEnd };
}

// A user record's slots in `KplAggregate`'s table: where its data, partition key and explicit hash key are.
const DATA_START = 0;
const DATA_END = 1;
const KEY_START = 2;
const KEY_END = 3;
const HASH_KEY_START = 4;
const HASH_KEY_END = 5;
const SLOTS = 6;
const NO_HASH_KEY = -1;

/**
 * A checked aggregate whose user records are read when asked for: it keeps the aggregate's bytes and where each
 * user record's fields are in them, not an object, a data view and a partition key string per user record. A
 * batch that keeps its records until the sinks ran keeps this instead of all that.
 */
export class KplAggregate {
  constructor(
    private readonly bytes: Buffer,
    private readonly table: Int32Array,
  ) {}

  get count(): number {
    return this.table.length / SLOTS;
  }

  /** Decoded on every read: the aggregate checked it is UTF-8. */
  partitionKey(index: number): string {
    const at = index * SLOTS;
    return this.bytes.toString('utf8', this.table[at + KEY_START], this.table[at + KEY_END]);
  }

  explicitHashKey(index: number): string | undefined {
    const at = index * SLOTS;
    const start = this.table[at + HASH_KEY_START]!;
    return start === NO_HASH_KEY ? undefined : this.bytes.toString('utf8', start, this.table[at + HASH_KEY_END]);
  }

  /** A view into the aggregate's bytes, not a copy. */
  data(index: number): Uint8Array {
    const at = index * SLOTS;
    return this.bytes.subarray(this.table[at + DATA_START], this.table[at + DATA_END]);
  }
}

/**
 * Reads a KPL aggregate's user records, in order. Throws `INVALID_KPL_AGGREGATE` for a truncated or malformed
 * aggregate (including one without user records) and `KPL_CHECKSUM_MISMATCH` when the trailing MD5 does not
 * match; both name `recordId`. Call only when `isKplAggregate(bytes)`.
 */
export function parseAggregate(bytes: Uint8Array, recordId: string): KplAggregate {
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
  // Each table entry as its start and end in the bytes.
  const partitionKeys: number[] = [];
  const explicitHashKeys: number[] = [];
  const raws: RawRecord[] = [];
  while (reader.pos < end) {
    const { field, wireType } = reader.key(AGGREGATE_FIELDS);
    if (field === 1) partitionKeys.push(reader.string(), reader.pos);
    else if (field === 2) explicitHashKeys.push(reader.string(), reader.pos);
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
  const table = new Int32Array(raws.length * SLOTS);
  for (let i = 0; i < raws.length; i++) {
    const raw = raws[i]!;
    const at = i * SLOTS;
    if (raw.partitionKeyIndex >= partitionKeys.length / 2) {
      throw reader.invalid(
        `has user record ${i} with partition key index ${raw.partitionKeyIndex}, ` +
          `but the partition key table has ${partitionKeys.length / 2} entries`,
      );
    }
    table[at + DATA_START] = raw.dataStart;
    table[at + DATA_END] = raw.dataEnd;
    table[at + KEY_START] = partitionKeys[2 * raw.partitionKeyIndex]!;
    table[at + KEY_END] = partitionKeys[2 * raw.partitionKeyIndex + 1]!;
    table[at + HASH_KEY_START] = NO_HASH_KEY;
    if (raw.explicitHashKeyIndex !== undefined) {
      if (raw.explicitHashKeyIndex >= explicitHashKeys.length / 2) {
        throw reader.invalid(
          `has user record ${i} with explicit hash key index ${raw.explicitHashKeyIndex}, ` +
            `but the explicit hash key table has ${explicitHashKeys.length / 2} entries`,
        );
      }
      table[at + HASH_KEY_START] = explicitHashKeys[2 * raw.explicitHashKeyIndex]!;
      table[at + HASH_KEY_END] = explicitHashKeys[2 * raw.explicitHashKeyIndex + 1]!;
    }
  }
  return new KplAggregate(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), table);
}

/** A KPL aggregate's user records as objects, in order; throws as `parseAggregate` does. */
export function deaggregate(bytes: Uint8Array, recordId: string): KplUserRecord[] {
  const aggregate = parseAggregate(bytes, recordId);
  return Array.from({ length: aggregate.count }, (_, i) => new UserRecord(aggregate.partitionKey(i), aggregate.explicitHashKey(i), aggregate.data(i)));
}
