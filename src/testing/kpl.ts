/**
 * KPL aggregates, written the way the Kinesis Producer Library writes them: the magic bytes, a protobuf
 * `AggregatedRecord` (the format is described in src/runtime/kpl.ts, which reads it) and the MD5 of the protobuf
 * bytes. The runtime only reads aggregates; writing them is for tests, so the writer lives here.
 */
import { createHash } from 'node:crypto';
import type { KinesisStreamRecord } from 'aws-lambda';
import { MAGIC, WireType } from '../runtime/kpl';
import { FACTORY_DEFAULTS } from './defaults';
import { kinesisRecord, type KinesisRecordFields } from './kinesis';

/** A user record to put into an aggregate. */
export interface KplUserRecordInput {
  readonly partitionKey: string;
  /** Raw bytes, or a string sent as UTF-8. */
  readonly data: Uint8Array | string;
  /** @default none (Kinesis hashes the partition key) */
  readonly explicitHashKey?: string;
}

/** Protobuf output in chunks, joined once at the end. */
class ProtobufWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  varint(value: number): void {
    const bytes: number[] = [];
    let rest = value;
    while (rest >= 0x80) {
      bytes.push((rest % 128) | 0x80);
      rest = Math.floor(rest / 128);
    }
    bytes.push(rest);
    this.push(Uint8Array.from(bytes));
  }

  varintField(field: number, value: number): void {
    this.varint(field * 8 + WireType.Varint);
    this.varint(value);
  }

  bytesField(field: number, bytes: Uint8Array): void {
    this.varint(field * 8 + WireType.LengthDelimited);
    this.varint(bytes.length);
    this.push(bytes);
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
}

/** Position of `key` in `table`, adding it on first use: the KPL stores each key once and refers to it by index. */
function indexIn(table: Map<string, number>, key: string): number {
  let index = table.get(key);
  if (index === undefined) {
    index = table.size;
    table.set(key, index);
  }
  return index;
}

const utf8 = (value: Uint8Array | string): Uint8Array => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

/**
 * The bytes of a KPL aggregate of `records`, in order. Partition keys and explicit hash keys are stored once in
 * their tables and referenced by index, as the KPL does.
 * @example
 * const bytes = kplAggregate([{ partitionKey: 'a', data: '{"n":1}' }, { partitionKey: 'b', data: '{"n":2}' }]);
 * await kinesis.send(new PutRecordCommand({ StreamName: 'checkout-events', PartitionKey: 'a', Data: bytes }));
 */
export function kplAggregate(records: readonly KplUserRecordInput[]): Uint8Array {
  const partitionKeys = new Map<string, number>();
  const explicitHashKeys = new Map<string, number>();
  const userRecords = records.map((record) => {
    const writer = new ProtobufWriter();
    writer.varintField(1, indexIn(partitionKeys, record.partitionKey));
    if (record.explicitHashKey !== undefined) writer.varintField(2, indexIn(explicitHashKeys, record.explicitHashKey));
    writer.bytesField(3, utf8(record.data));
    return writer.finish();
  });
  const body = new ProtobufWriter();
  for (const key of partitionKeys.keys()) body.bytesField(1, utf8(key));
  for (const key of explicitHashKeys.keys()) body.bytesField(2, utf8(key));
  for (const record of userRecords) body.bytesField(3, record);
  const protobuf = body.finish();
  const digest = createHash('md5').update(protobuf).digest();
  return Buffer.concat([Uint8Array.from(MAGIC), protobuf, digest]);
}

/**
 * A Kinesis record whose data is a KPL aggregate of `userRecords`, as Lambda delivers it (Lambda does not split
 * aggregates; shardflow does). The record's own partition key defaults to the first user record's, as the KPL does.
 * @example
 * kplAggregateRecord(
 *   [{ partitionKey: 'ana', data: '{"total":3}' }, { partitionKey: 'bo', data: '{"total":4}' }],
 *   { streamName: 'checkout-events' },
 * );
 */
export function kplAggregateRecord(userRecords: readonly KplUserRecordInput[], options: KinesisRecordFields = {}): KinesisStreamRecord {
  return kinesisRecord({
    ...options,
    partitionKey: options.partitionKey ?? userRecords[0]?.partitionKey ?? FACTORY_DEFAULTS.partitionKey,
    data: kplAggregate(userRecords),
  });
}
