import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { ErrorCode, ShardflowError } from '../../src/runtime/errors';
import { deaggregate, isKplAggregate } from '../../src/runtime/kpl';
import { kplAggregate } from '../../src/testing';

const MAGIC = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);
const RECORD_ID = 'shardId-000000000000:1';

const userRecord = fc.record(
  {
    partitionKey: fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }),
    explicitHashKey: fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }).map(String),
    data: fc.uint8Array({ maxLength: 300 }),
  },
  { requiredKeys: ['partitionKey', 'data'] },
);

/** Magic + protobuf + MD5, for hand-built protobuf bytes. */
function frame(protobuf: Uint8Array): Uint8Array {
  return Buffer.concat([MAGIC, protobuf, createHash('md5').update(protobuf).digest()]);
}

function decodeError(bytes: Uint8Array): ShardflowError {
  try {
    deaggregate(bytes, RECORD_ID);
  } catch (error) {
    if (error instanceof ShardflowError) return error;
    throw error;
  }
  throw new Error('deaggregate accepted the bytes');
}

describe('KPL aggregation', () => {
  it('deaggregates any aggregate to the same user records, in order', () => {
    fc.assert(
      fc.property(fc.array(userRecord, { minLength: 1, maxLength: 30 }), (records) => {
        const bytes = kplAggregate(records);
        expect(isKplAggregate(bytes)).toBe(true);
        const result = deaggregate(bytes, RECORD_ID);
        expect(result.map((r) => ({ ...r, data: Buffer.from(r.data) }))).toEqual(
          records.map((r) => ({ partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey, data: Buffer.from(r.data) })),
        );
      }),
    );
  });

  it('reads aggregates made by other implementations and writes the same bytes', () => {
    // Aggregates published in tests of other projects, made with awslabs/kinesis-aggregation and the KPL.
    const vectors: [string, [string, string][]][] = [
      [
        '84mawgoEcGstMAoEcGstMQoEcGstMhoTCAAaD3sibXNnIjoibGluZTAifRoTCAEaD3sibXNnIjoibGluZTEifRoTCAIaD3sibXNnIjoibGluZTIifZ8hyadI+v2KZPZrUGim6cQ=',
        [0, 1, 2].map((i) => [`pk-${i}`, `{"msg":"line${i}"}`]),
      ],
      [
        '84mawgoFa2V5LTAaJQgAGiFUZXN0aW5nIEtQTCBBZ2dyZWdhdGVkIFJlY29yZCAxLTBlW2Hfd6iL1WkMbznr8jc2',
        [['key-0', 'Testing KPL Aggregated Record 1-0']],
      ],
    ];
    for (const [base64, expected] of vectors) {
      const records = deaggregate(Buffer.from(base64, 'base64'), RECORD_ID);
      expect(records.map((r) => [r.partitionKey, Buffer.from(r.data).toString()])).toEqual(expected);
      const rebuilt = kplAggregate(expected.map(([partitionKey, data]) => ({ partitionKey, data: Buffer.from(data) })));
      expect(Buffer.from(rebuilt).toString('base64')).toBe(base64);
    }
  });

  it('stores repeated partition keys once, as the KPL does', () => {
    const records = Array.from({ length: 10 }, (_, i) => ({ partitionKey: i % 2 === 0 ? 'even' : 'odd', data: Buffer.from([i]) }));
    const single = kplAggregate(records.slice(0, 2)).length;
    // Ten records with two keys: the table does not grow, each extra record costs only its own few bytes.
    expect(kplAggregate(records).length).toBeLessThan(single + 8 * 8);
    expect(deaggregate(kplAggregate(records), RECORD_ID).map((r) => r.partitionKey)).toEqual(records.map((r) => r.partitionKey));
  });

  it('reads past tags and fields it does not know', () => {
    // AggregatedRecord { partition_key_table: ["k"], records: [{ partition_key_index: 0, data: "hi", tags: [{key:"t"}] }], field 9: varint 7 }
    const tag = [0x0a, 0x01, 0x74];
    const record = [0x08, 0x00, 0x1a, 0x02, 0x68, 0x69, 0x22, tag.length, ...tag];
    const protobuf = Uint8Array.from([0x0a, 0x01, 0x6b, 0x1a, record.length, ...record, 0x48, 0x07]);
    const [user] = deaggregate(frame(protobuf), RECORD_ID);
    expect(user?.partitionKey).toBe('k');
    expect(Buffer.from(user!.data).toString()).toBe('hi');
    expect(user?.explicitHashKey).toBeUndefined();
  });

  it('does not treat data without the magic bytes as an aggregate', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        fc.pre(!(bytes[0] === 0xf3 && bytes[1] === 0x89 && bytes[2] === 0x9a && bytes[3] === 0xc2));
        expect(isKplAggregate(bytes)).toBe(false);
      }),
    );
    expect(isKplAggregate(Uint8Array.of(0xf3, 0x89, 0x9a))).toBe(false);
  });

  it('rejects a wrong MD5 with KPL_CHECKSUM_MISMATCH', () => {
    const bytes = Buffer.from(kplAggregate([{ partitionKey: 'k', data: Buffer.from('hello') }]));
    bytes[bytes.length - 1] ^= 0xff;
    const error = decodeError(bytes);
    expect(error.code).toBe(ErrorCode.KplChecksumMismatch);
    expect(error.message).toContain(RECORD_ID);
  });

  it('rejects a record index outside the partition key table', () => {
    const record = [0x08, 0x01, 0x1a, 0x00];
    const error = decodeError(frame(Uint8Array.from([0x0a, 0x01, 0x6b, 0x1a, record.length, ...record])));
    expect(error.code).toBe(ErrorCode.InvalidKplAggregate);
    expect(error.message).toContain('partition key index 1');
  });

  it('rejects an explicit hash key index outside its table', () => {
    const record = [0x08, 0x00, 0x10, 0x00, 0x1a, 0x00];
    const error = decodeError(frame(Uint8Array.from([0x0a, 0x01, 0x6b, 0x1a, record.length, ...record])));
    expect(error.code).toBe(ErrorCode.InvalidKplAggregate);
    expect(error.message).toContain('explicit hash key index 0');
  });

  it('rejects user records without data or partition key index, and aggregates without records', () => {
    const noData = [0x08, 0x00];
    expect(decodeError(frame(Uint8Array.from([0x0a, 0x01, 0x6b, 0x1a, noData.length, ...noData]))).message).toContain('without data');
    const noIndex = [0x1a, 0x00];
    expect(decodeError(frame(Uint8Array.from([0x1a, noIndex.length, ...noIndex]))).message).toContain('without a partition key index');
    expect(decodeError(frame(Uint8Array.from([0x0a, 0x01, 0x6b]))).message).toContain('no user records');
  });

  it('rejects truncation with INVALID_KPL_AGGREGATE', () => {
    const bytes = kplAggregate([{ partitionKey: 'k', data: Buffer.alloc(100, 7) }]);
    for (const cut of [1, 17, 50, 100]) {
      const error = decodeError(bytes.subarray(0, bytes.length - cut));
      expect(error.code).toBe(ErrorCode.InvalidKplAggregate);
      expect(error.message).toMatch(/truncated/);
    }
    expect(decodeError(MAGIC).message).toContain('truncated');
  });

  it('throws only ShardflowErrors with the two KPL codes for random bytes after the magic', () => {
    const codes = [ErrorCode.InvalidKplAggregate, ErrorCode.KplChecksumMismatch];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (body, withValidDigest) => {
        const bytes = withValidDigest ? frame(body) : Buffer.concat([MAGIC, body]);
        try {
          const records = deaggregate(bytes, RECORD_ID);
          // Random bytes can form a valid aggregate; then it must be internally consistent.
          expect(withValidDigest).toBe(true);
          expect(records.length).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(ShardflowError);
          expect(codes).toContain((error as ShardflowError).code);
          expect((error as ShardflowError).recordId).toBe(RECORD_ID);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('throws only ShardflowErrors for mutated valid aggregates with a fixed-up MD5', () => {
    fc.assert(
      fc.property(
        fc.array(userRecord, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (records, mutations) => {
          const protobuf = Buffer.from(kplAggregate(records)).subarray(4, -16);
          const mutated = Buffer.from(protobuf);
          for (const [at, value] of mutations) mutated[at % mutated.length] = value;
          try {
            deaggregate(frame(mutated), RECORD_ID);
          } catch (error) {
            expect(error).toBeInstanceOf(ShardflowError);
            expect((error as ShardflowError).code).toBe(ErrorCode.InvalidKplAggregate);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
