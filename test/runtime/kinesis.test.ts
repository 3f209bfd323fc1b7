import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ErrorCode } from '../../src/runtime/errors';
import { decodeKinesisRecord } from '../../src/runtime/kinesis';
import type { KinesisStreamRecord } from '../../src/runtime/model';
import { normalizeRecord } from '../../src/runtime/normalize';
import { decodeBase64Strict } from '../../src/runtime/payload';
import { kinesisRecord, kinesisStreamArn, kplAggregateRecord } from '../helpers/factories';

/** Every record one raw Kinesis record decodes to (several for a KPL aggregate); throws like the decoder. */
function normalizeKinesisRecord(raw: unknown, position: number): KinesisStreamRecord[] {
  const decoded = decodeKinesisRecord(raw, position);
  return Array.isArray(decoded) ? decoded : [decoded];
}

function normalizeOne(raw: unknown, position = 0): KinesisStreamRecord {
  const records = normalizeKinesisRecord(raw, position);
  expect(records).toHaveLength(1);
  return records[0]!;
}

const startsWithMagic = (bytes: Uint8Array) =>
  (bytes[0] === 0x1f && bytes[1] === 0x8b) || (bytes[0] === 0xf3 && bytes[1] === 0x89 && bytes[2] === 0x9a && bytes[3] === 0xc2);

describe('decodeKinesisRecord', () => {
  it('reads the fields of a record as Lambda delivers it', () => {
    const raw = kinesisRecord({
      json: { hello: 'world' },
      partitionKey: 'user-7',
      sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      shardId: 'shardId-000000000006',
      streamName: 'orders',
      arrivalSeconds: 1545084650.987,
    });
    const record = normalizeOne(raw, 3);
    expect(record).toMatchObject({
      source: 'aws:kinesis',
      kind: 'kinesis-record',
      eventID: 'shardId-000000000006:49590338271490256608559692538361571095921575989136588898',
      recordId: 'shardId-000000000006:49590338271490256608559692538361571095921575989136588898',
      streamArn: kinesisStreamArn('orders'),
      streamName: 'orders',
      shardId: 'shardId-000000000006',
      partitionKey: 'user-7',
      sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      subSequenceNumber: undefined,
      explicitHashKey: undefined,
      aggregated: false,
      position: 3,
      arrivalTime: 1545084650987,
      awsRegion: 'us-east-1',
    });
    expect(record.raw).toBe(raw);
    expect(record.payload.gzipped).toBe(false);
    expect(record.payload.json()).toEqual({ hello: 'world' });
    // Decoded once: the same value comes back.
    expect(record.payload.json()).toBe(record.payload.json());
  });

  it('keeps any JSON payload through base64, with and without gzip', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, gzip) => {
        const record = normalizeOne(kinesisRecord({ json: value, gzip }));
        expect(record.payload.gzipped).toBe(gzip);
        expect(record.payload.json()).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps any text payload', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.boolean(), (text, gzip) => {
        fc.pre(!startsWithMagic(Buffer.from(text)) && !text.startsWith('\ufeff'));
        expect(normalizeOne(kinesisRecord({ data: text, gzip })).payload.text()).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('drops a leading byte order mark from text, so JSON written with one parses', () => {
    const record = normalizeOne(kinesisRecord({ data: '\ufeff{"a":1}' }));
    expect(record.payload.text()).toBe('{"a":1}');
    expect(record.payload.json()).toEqual({ a: 1 });
  });

  // ASCII data is its own text (no UTF-8 decoding): both paths must agree with the decoder.
  const bytesOrAscii = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.string({ unit: 'binary-ascii', maxLength: 64 }).map((text) => new Uint8Array(Buffer.from(text))),
  );

  it('decodes any bytes to the text a fatal UTF-8 decoder gives, or to INVALID_UTF8, whichever is read first', () => {
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(bytesOrAscii, fc.boolean(), (bytes, bytesFirst) => {
        fc.pre(!startsWithMagic(bytes));
        const payload = normalizeOne(kinesisRecord({ data: bytes })).payload;
        if (bytesFirst) expect(Buffer.from(payload.bytes)).toEqual(Buffer.from(bytes));
        let expected: string | undefined;
        try {
          expected = utf8.decode(bytes);
        } catch {
          expected = undefined;
        }
        if (expected === undefined) expect(() => payload.text()).toThrow(expect.objectContaining({ code: ErrorCode.InvalidUtf8 }));
        else expect(payload.text()).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps any binary payload that starts with neither gzip nor KPL magic bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        fc.pre(!startsWithMagic(bytes));
        const record = normalizeOne(kinesisRecord({ data: bytes }));
        expect(Buffer.from(record.payload.bytes)).toEqual(Buffer.from(bytes));
        expect(record.payload.gzipped).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('inflates gzip whatever the bytes inside, as CloudWatch Logs subscriptions send them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const record = normalizeOne(kinesisRecord({ data: bytes, gzip: true }));
        expect(Buffer.from(record.payload.bytes)).toEqual(Buffer.from(bytes));
        expect(record.payload.gzipped).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('splits a KPL aggregate into one record per user record', () => {
    const raw = kplAggregateRecord(
      [
        { partitionKey: 'a', data: '{"n":0}' },
        { partitionKey: 'b', data: gzipSync(Buffer.from('{"n":1}')), explicitHashKey: '170141183460469231731687303715884105728' },
        { partitionKey: 'a', data: '{"n":2}' },
      ],
      { sequenceNumber: '49590338271490256608559692538361571095921575989136588898' },
    );
    const records = normalizeKinesisRecord(raw, 5);
    expect(records.map((r) => [r.recordId, r.partitionKey, r.subSequenceNumber, r.explicitHashKey, r.payload.gzipped, r.payload.json()])).toEqual([
      [`${raw.eventID}#0`, 'a', 0, undefined, false, { n: 0 }],
      [`${raw.eventID}#1`, 'b', 1, '170141183460469231731687303715884105728', true, { n: 1 }],
      [`${raw.eventID}#2`, 'a', 2, undefined, false, { n: 2 }],
    ]);
    for (const record of records) {
      expect(record).toMatchObject({ eventID: raw.eventID, sequenceNumber: raw.kinesis.sequenceNumber, aggregated: true, position: 5 });
      expect(record.raw).toBe(raw);
    }
  });

  it('keeps the user records of any aggregate, in order', () => {
    const user = fc.record({ partitionKey: fc.string({ minLength: 1, maxLength: 20 }), data: fc.jsonValue().map((v) => JSON.stringify(v)) });
    fc.assert(
      fc.property(fc.array(user, { minLength: 1, maxLength: 20 }), (users) => {
        const records = normalizeKinesisRecord(kplAggregateRecord(users), 0);
        expect(records.map((r) => [r.partitionKey, r.payload.text()])).toEqual(users.map((u) => [u.partitionKey, u.data]));
        expect(records.map((r) => r.subSequenceNumber)).toEqual(users.map((_, i) => i));
      }),
      { numRuns: 100 },
    );
  });

  it('accepts the sequence number 0 and 129 digits, and data that is empty', () => {
    expect(normalizeOne(kinesisRecord({ sequenceNumber: '0', data: '' })).payload.bytes).toHaveLength(0);
    const long = `9${'0'.repeat(128)}`;
    expect(normalizeOne(kinesisRecord({ sequenceNumber: long })).sequenceNumber).toBe(long);
  });

  it('reads the stream name from an enhanced fan-out consumer ARN', () => {
    const raw = { ...kinesisRecord(), eventSourceARN: `${kinesisStreamArn('clicks')}/consumer/app:1700000000` };
    expect(normalizeOne(raw).streamName).toBe('clicks');
  });
});

describe('strict base64', () => {
  // The definition: the RFC 4648 alphabet with padding, and the canonical encoding of what it decodes to.
  const oracle = (text: string) =>
    /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text) &&
    Buffer.from(text, 'base64').toString('base64') === text;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n\u00c1\u0141\u0100';
  const nearlyBase64 = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 24 });

  it('accepts exactly the canonical padded encodings', () => {
    fc.assert(
      fc.property(fc.oneof(nearlyBase64, fc.string({ unit: 'binary', maxLength: 24 })), (text) => {
        const bytes = decodeBase64Strict(text);
        expect(bytes !== undefined).toBe(oracle(text));
        if (bytes !== undefined) expect(bytes).toEqual(Buffer.from(text, 'base64'));
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts every encoding of bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(decodeBase64Strict(Buffer.from(bytes).toString('base64'))).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('rejects what Buffer.from lets through', () => {
    for (const text of ['QUJD\n', 'QU JD', 'QUJ', '-_8=', 'QR==', 'QUI=QUJD', '\u0141UJD', 'QUJD====']) {
      expect(decodeBase64Strict(text)).toBeUndefined();
    }
  });
});

describe('fuzzing the Kinesis decoder', () => {
  const decodeCodes: string[] = [ErrorCode.InvalidBase64, ErrorCode.InvalidGzip, ErrorCode.InvalidKplAggregate, ErrorCode.KplChecksumMismatch];

  it('turns any string in kinesis.data into records or a decoding error', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (data) => {
        const result = normalizeRecord(kinesisRecord({ base64: data }), 0);
        if (!result.ok) expect(decodeCodes).toContain(result.error.code);
      }),
      { numRuns: 2000 },
    );
  });

  it('turns any bytes after a gzip or KPL magic into records or a decoding error (gzip when it is read)', () => {
    const magic = fc.constantFrom(Uint8Array.of(0x1f, 0x8b), Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2), Uint8Array.of());
    fc.assert(
      fc.property(magic, fc.uint8Array({ maxLength: 100 }), (prefix, body) => {
        const result = normalizeRecord(kinesisRecord({ data: Buffer.concat([prefix, body]) }), 0);
        if (!result.ok) expect(decodeCodes).toContain(result.error.code);
        else {
          for (const record of result.records) {
            try {
              expect(record.payload.bytes).toBeInstanceOf(Uint8Array);
            } catch (error) {
              expect(error).toMatchObject({ code: ErrorCode.InvalidGzip, retryable: false });
            }
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
