import fc from 'fast-check';
import { ErrorCode } from '../../src/runtime/errors';
import { normalizeRecord } from '../../src/runtime/normalize';
import { dynamodbRecord, kinesisRecord, kplAggregateRecord, rawDynamodbRecord } from '../helpers/factories';

// Codes a record's own content can cause; UNEXPECTED would mean a bug in the decoders.
const DATA_CODES: string[] = [
  ErrorCode.InvalidBase64,
  ErrorCode.InvalidGzip,
  ErrorCode.InvalidKplAggregate,
  ErrorCode.KplChecksumMismatch,
  ErrorCode.UnknownEventSource,
  ErrorCode.MissingField,
  ErrorCode.UnknownAttributeType,
  ErrorCode.InvalidNumber,
];

describe('normalizeRecord', () => {
  it('dispatches on eventSource', () => {
    const kinesis = normalizeRecord(kinesisRecord(), 0);
    const dynamodb = normalizeRecord(dynamodbRecord({ eventName: 'INSERT', keys: { Id: 1 } }), 1);
    const aggregate = normalizeRecord(kplAggregateRecord([{ partitionKey: 'a', data: '1' }, { partitionKey: 'b', data: '2' }]), 2);
    expect(kinesis.ok && kinesis.records.map((r) => [r.source, r.position])).toEqual([['aws:kinesis', 0]]);
    expect(dynamodb.ok && dynamodb.records.map((r) => [r.source, r.position])).toEqual([['aws:dynamodb', 1]]);
    expect(aggregate.ok && aggregate.records.map((r) => [r.source, r.position, r.subSequenceNumber])).toEqual([
      ['aws:kinesis', 2, 0],
      ['aws:kinesis', 2, 1],
    ]);
  });

  it('names the position when the record is not an object or has no eventID', () => {
    for (const raw of [null, 'text', [1, 2], { eventSource: 'aws:s3' }]) {
      const result = normalizeRecord(raw, 7);
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.error.message).toMatch(/^Record at batch position 7 cannot be decoded: .+\.$/);
      expect(result.error.recordId).toBeUndefined();
      expect(result.position).toBe(7);
      expect(result.raw).toBe(raw);
    }
  });

  it('keeps the provenance it could read from a Kinesis record that fails', () => {
    const raw = kinesisRecord({ base64: '%%%%', partitionKey: 'user-1', shardId: 'shardId-000000000003', sequenceNumber: '12345' });
    const result = normalizeRecord(raw, 0);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.provenance).toEqual({
      source: 'aws:kinesis',
      eventID: 'shardId-000000000003:12345',
      streamArn: raw.eventSourceARN,
      shardId: 'shardId-000000000003',
      partitionKey: 'user-1',
      sequenceNumber: '12345',
    });
  });

  it('keeps the provenance it could read from a DynamoDB record that fails', () => {
    const raw = rawDynamodbRecord({ eventName: 'INSERT', viewType: 'KEYS_ONLY', keys: { Id: { N: 'bad' } }, sequenceNumber: '222' });
    const result = normalizeRecord(raw, 0);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.provenance).toEqual({
      source: 'aws:dynamodb',
      eventID: raw.eventID,
      streamArn: raw.eventSourceARN,
      partitionKey: '[["Id",{"N":"bad"}]]',
      sequenceNumber: '222',
    });
  });

  it('keeps a sequence number in the provenance only when its source would accept it, so it can be reported', () => {
    const provenance = (raw: unknown) => {
      const result = normalizeRecord(raw, 0);
      if (result.ok) throw new Error('Expected the record to fail.');
      return result.provenance;
    };
    const dynamodb = (sequenceNumber: string) =>
      rawDynamodbRecord({ eventName: 'INSERT', viewType: 'KEYS_ONLY', keys: { Id: { N: 'bad' } }, sequenceNumber });
    expect(provenance(dynamodb('000000000000000000973')).sequenceNumber).toBe('000000000000000000973');
    expect(provenance(dynamodb('1'.repeat(41))).sequenceNumber).toBeUndefined();
    expect(provenance(kinesisRecord({ base64: '%%%%', sequenceNumber: '0123' })).sequenceNumber).toBeUndefined();
    expect(provenance(kinesisRecord({ base64: '%%%%', sequenceNumber: '123' })).sequenceNumber).toBe('123');
  });

  it('reports a failure that is not about the data as a retryable UNEXPECTED error', () => {
    const raw = {
      eventSource: 'aws:kinesis',
      get eventID(): string {
        throw new Error('getter failed');
      },
    };
    const result = normalizeRecord(raw, 4);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(ErrorCode.Unexpected);
    expect(result.error.retryable).toBe(true);
    expect(result.error.message).toContain('position 4');
    expect(result.error.message).toContain('getter failed');
  });

  it('never throws, and fails only with data codes, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = normalizeRecord(value, 0);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(DATA_CODES).toContain(result.error.code);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws for records with random fields in place of valid ones', () => {
    const field = fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 }));
    fc.assert(
      fc.property(fc.boolean(), fc.dictionary(fc.constantFrom('eventID', 'eventSourceARN', 'eventName', 'awsRegion', 'userIdentity', 'kinesis', 'dynamodb'), field), (isKinesis, overrides) => {
        const base = isKinesis ? kinesisRecord() : dynamodbRecord({ eventName: 'MODIFY', keys: { Id: 1 } });
        const result = normalizeRecord({ ...base, ...overrides }, 0);
        if (!result.ok) expect(DATA_CODES).toContain(result.error.code);
      }),
      { numRuns: 500 },
    );
  });

  describe('fuzzing AttributeValues', () => {
    const tags = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL', 'X', 'n', ''];
    const numberLike = fc.oneof(
      fc.stringMatching(/^-?\d{0,45}(\.\d{0,45})?([eE][+-]?\d{1,4})?$/),
      fc.string({ maxLength: 10 }),
    );
    // AttributeValue-shaped JSON that is often valid and often subtly not.
    const { value: attributeLike } = fc.letrec<{ value: unknown; map: Record<string, unknown> }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.record({ S: fc.oneof(fc.string(), fc.integer()) }),
        fc.record({ N: numberLike }),
        fc.record({ B: fc.oneof(fc.base64String(), fc.string()) }),
        fc.record({ SS: fc.array(fc.oneof(fc.string(), fc.constant(null)), { maxLength: 3 }) }),
        fc.record({ NS: fc.array(numberLike, { maxLength: 3 }) }),
        fc.record({ BS: fc.array(fc.oneof(fc.base64String(), fc.string()), { maxLength: 3 }) }),
        fc.record({ NULL: fc.oneof(fc.constant(true), fc.jsonValue({ maxDepth: 0 })) }),
        fc.record({ BOOL: fc.oneof(fc.boolean(), fc.string()) }),
        fc.record({ L: fc.array(tie('value'), { maxLength: 3 }) }),
        fc.record({ M: tie('map') }),
        fc.dictionary(fc.constantFrom(...tags), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      map: fc.dictionary(fc.string({ maxLength: 5 }), tie('value'), { maxKeys: 3 }),
    }));
    const imageLike = fc.dictionary(fc.string({ maxLength: 5 }), attributeLike, { maxKeys: 4 });

    it('turns any AttributeValue-like keys and images into records or permanent decoding errors', () => {
      fc.assert(
        // Valid keys half the time, so the images get read too.
        fc.property(fc.oneof(fc.constant({ Id: { N: '1' } }), imageLike), imageLike, (keys, image) => {
          const raw = rawDynamodbRecord({ eventName: 'MODIFY', keys: keys as never, newImage: image as never, oldImage: image as never });
          const result = normalizeRecord(raw, 0);
          if (!result.ok) {
            expect(DATA_CODES).toContain(result.error.code);
            return;
          }
          const [record] = result.records;
          if (record?.source !== 'aws:dynamodb') throw new Error('expected a DynamoDB record');
          try {
            void record.newImage;
          } catch (error) {
            expect(DATA_CODES).toContain((error as { code?: unknown }).code);
            expect((error as { retryable?: unknown }).retryable).toBe(false);
          }
        }),
        { numRuns: 1000 },
      );
    });
  });
});
