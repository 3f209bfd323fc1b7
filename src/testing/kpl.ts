/** KPL aggregates for tests: the runtime's writer (src/runtime/kpl-writer.ts), with text data taken as UTF-8. */
import type { KinesisStreamRecord } from 'aws-lambda';
import { aggregate } from '../runtime/kpl-writer';
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

/**
 * The bytes of a KPL aggregate of `records`, in order. Partition keys and explicit hash keys are stored once in
 * their tables and referenced by index, as the KPL does.
 * @example
 * const bytes = kplAggregate([{ partitionKey: 'a', data: '{"n":1}' }, { partitionKey: 'b', data: '{"n":2}' }]);
 * await kinesis.send(new PutRecordCommand({ StreamName: 'checkout-events', PartitionKey: 'a', Data: bytes }));
 */
export function kplAggregate(records: readonly KplUserRecordInput[]): Uint8Array {
  return aggregate(records.map((record) => ({ ...record, data: typeof record.data === 'string' ? Buffer.from(record.data, 'utf8') : record.data })));
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
