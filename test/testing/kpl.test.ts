/**
 * The public KPL factory: an aggregate record round-trips through the runtime's deaggregation. (`kplAggregate`'s
 * bytes are checked against other implementations in test/runtime/kpl.test.ts.)
 */
import fc from 'fast-check';
import type { KinesisStreamRecord } from '../../src/index';
import { kinesisStreamArn, kplAggregateRecord, type KplUserRecordInput } from '../../src/testing';
import { normalizeAll } from '../helpers/normalize';

const userRecord: fc.Arbitrary<KplUserRecordInput> = fc.record(
  {
    partitionKey: fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }),
    data: fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 100, unit: 'grapheme' })),
    explicitHashKey: fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }).map(String),
  },
  { requiredKeys: ['partitionKey', 'data'] },
);

const bytesOf = (data: Uint8Array | string) => (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));


describe('kplAggregateRecord', () => {
  it('normalizes to its user records, in order, each named after its parent', () => {
    fc.assert(
      fc.property(fc.array(userRecord, { minLength: 1, maxLength: 20 }), (userRecords) => {
        const raw = kplAggregateRecord(userRecords, { streamName: 'checkout-events' });
        expect(raw.kinesis.partitionKey).toBe(userRecords[0]!.partitionKey);
        const records = normalizeAll(raw) as KinesisStreamRecord[];
        expect(records.map((record) => Buffer.from(record.payload.bytes))).toEqual(userRecords.map((user) => bytesOf(user.data)));
        records.forEach((record, index) => {
          expect(record).toMatchObject({
            partitionKey: userRecords[index]!.partitionKey,
            explicitHashKey: userRecords[index]!.explicitHashKey,
            aggregated: true,
            subSequenceNumber: index,
            recordId: `${raw.eventID}#${index}`,
            sequenceNumber: raw.kinesis.sequenceNumber,
            streamArn: kinesisStreamArn('checkout-events'),
          });
        });
      }),
    );
  });

  it('takes the partition key it is given for the Kinesis record itself', () => {
    const raw = kplAggregateRecord([{ partitionKey: 'a', data: 'x' }], { partitionKey: 'outer' });
    expect(raw.kinesis.partitionKey).toBe('outer');
    expect(normalizeAll(raw).map((record) => record.partitionKey)).toEqual(['a']);
  });
});
