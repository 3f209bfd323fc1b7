/**
 * Writes KPL aggregates the way the Kinesis Producer Library does: the magic bytes, a protobuf `AggregatedRecord`
 * (the format is described in kpl.ts, which reads it) and the MD5 of the protobuf bytes. The runtime writes one
 * when it keeps a failing KPL user record on its own in a fault (`userRecordRaw`); tests write them to make records.
 */
import { createHash } from 'node:crypto';
import { MAGIC, WireType } from './kpl';

/** A user record to put into an aggregate. */
export interface KplAggregateInput {
  readonly partitionKey: string;
  readonly data: Uint8Array;
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

/**
 * The bytes of a KPL aggregate of `records`, in order. Partition keys and explicit hash keys are stored once in
 * their tables and referenced by index, as the KPL does.
 */
export function aggregate(records: readonly KplAggregateInput[]): Uint8Array {
  const partitionKeys = new Map<string, number>();
  const explicitHashKeys = new Map<string, number>();
  const userRecords = records.map((record) => {
    const writer = new ProtobufWriter();
    writer.varintField(1, indexIn(partitionKeys, record.partitionKey));
    if (record.explicitHashKey !== undefined) writer.varintField(2, indexIn(explicitHashKeys, record.explicitHashKey));
    writer.bytesField(3, record.data);
    return writer.finish();
  });
  const body = new ProtobufWriter();
  for (const key of partitionKeys.keys()) body.bytesField(1, Buffer.from(key, 'utf8'));
  for (const key of explicitHashKeys.keys()) body.bytesField(2, Buffer.from(key, 'utf8'));
  for (const record of userRecords) body.bytesField(3, record);
  const protobuf = body.finish();
  const digest = createHash('md5').update(protobuf).digest();
  return Buffer.concat([Uint8Array.from(MAGIC), protobuf, digest]);
}

