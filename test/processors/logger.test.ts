import fc from 'fast-check';
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import { createRecordLogger, PayloadEncoding, REDACTED } from '../../src/processors';
import { ErrorCode } from '../../src/runtime/errors';
import type { Effect, LogEffect } from '../../src/runtime/types';
import { dynamodbRecord, kinesisRecord, kplAggregateRecord, rawDynamodbRecord } from '../helpers/factories';
import { normalizeAll, normalizeDynamoDB, normalizeKinesis, run, selects } from './records';
import { thrown } from '../helpers/errors';

function onlyLog(effects: readonly Effect[]): LogEffect {
  expect(effects).toHaveLength(1);
  const [effect] = effects;
  if (effect?.type !== 'log') throw new Error('Expected a log effect.');
  return effect;
}

describe('record logger: Kinesis (seed Lab-Stream)', () => {
  const logger = createRecordLogger();

  it('logs a JSON record as JSON, with where it came from', () => {
    const raw = kinesisRecord({ json: { Username: 'Jane Doe', Score: 100 }, partitionKey: 'Jane Doe' });
    const record = normalizeKinesis(raw);
    const log = onlyLog(run(logger, record));
    expect(log.level).toBe('INFO');
    expect(log.message).toContain(record.recordId);
    expect(log.message).toContain('Lab-Stream');
    expect(log.fields).toMatchObject({
      recordId: record.recordId,
      stream: 'Lab-Stream',
      shardId: 'shardId-000000000000',
      partitionKey: 'Jane Doe',
      sequenceNumber: raw.kinesis.sequenceNumber,
      encoding: PayloadEncoding.Json,
      data: { Username: 'Jane Doe', Score: 100 },
      gzipped: false,
      aggregated: false,
    });
    expect(log.provenance).toMatchObject({
      source: 'aws:kinesis',
      eventID: raw.eventID,
      streamArn: raw.eventSourceARN,
      shardId: 'shardId-000000000000',
      partitionKey: 'Jane Doe',
      sequenceNumber: raw.kinesis.sequenceNumber,
      subSequenceNumber: undefined,
    });
  });

  it('logs text as text and binary as base64', () => {
    const text = onlyLog(run(logger, normalizeKinesis(kinesisRecord({ data: 'Hello from the lab, ünïcode ✓' }))));
    expect(text.fields).toMatchObject({ encoding: PayloadEncoding.Text, data: 'Hello from the lab, ünïcode ✓' });

    const bytes = Uint8Array.from([0xff, 0xfe, 0x00, 0x80, 0x7f]);
    const binary = onlyLog(run(logger, normalizeKinesis(kinesisRecord({ data: bytes }))));
    expect(binary.fields).toMatchObject({ encoding: PayloadEncoding.Base64, data: Buffer.from(bytes).toString('base64') });
  });

  it('logs JSON with a number beyond a double as its text, so the number shows exactly', () => {
    for (const data of ['{"big":1e400,"n":-0}', '{"Score":2.9999999999999999}', '[9007199254740993]']) {
      const log = onlyLog(run(logger, normalizeKinesis(kinesisRecord({ data }))));
      expect(log.fields).toMatchObject({ encoding: PayloadEncoding.Text, data });
    }
    const exact = onlyLog(run(logger, normalizeKinesis(kinesisRecord({ data: '{"n":-1.5,"big":9007199254740991,"e":1e300}' }))));
    expect(exact.fields).toMatchObject({ encoding: PayloadEncoding.Json, data: { n: -1.5, big: 9007199254740991, e: 1e300 } });
  });

  it('refuses a JSON payload too deep to render with a permanent error naming the record', () => {
    const record = normalizeKinesis(kinesisRecord({ data: `${'['.repeat(10_000)}${']'.repeat(10_000)}` }));
    const error = thrown(() => run(logger, record));
    expect(error).toMatchObject({ code: ErrorCode.NestingTooDeep, retryable: false, recordId: record.recordId });
    expect(error.message).toBe(`Record ${record.recordId} cannot be rendered: its JSON payload nests deeper than 128 levels, more than shardflow renders.`);
    // The deepest payload it renders:
    const deepest = normalizeKinesis(kinesisRecord({ data: `${'['.repeat(128)}${']'.repeat(128)}` }));
    expect(onlyLog(run(logger, deepest)).fields.encoding).toBe(PayloadEncoding.Json);
  });

  it('shows only the first maxDataBytes bytes of a larger payload, with its size', () => {
    const small = createRecordLogger({ maxDataBytes: 8 });
    const line = (data: Uint8Array | string, gzip = false) => onlyLog(run(small, normalizeKinesis(kinesisRecord({ data, gzip })))).fields;
    expect(line('{"a":"bcdefghij"}')).toMatchObject({ encoding: PayloadEncoding.Text, data: '{"a":"bc', truncated: true, size: 17 });
    // A character cut at the end is left out, not broken.
    expect(line('abcdefgé')).toMatchObject({ encoding: PayloadEncoding.Text, data: 'abcdefg', truncated: true, size: 9 });
    expect(line(Buffer.from([0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7]))).toMatchObject({ encoding: PayloadEncoding.Base64, data: Buffer.from([0xff, 0xfe, 1, 2, 3, 4, 5, 6]).toString('base64'), truncated: true });
    // A gzip bomb's line holds 8 bytes of it, not 16 MiB.
    expect(line(Buffer.alloc(16 * 1024 * 1024, 0x61), true)).toEqual(expect.objectContaining({ data: 'aaaaaaaa', truncated: true, size: 16 * 1024 * 1024, gzipped: true }));
    expect(line('12345678')).not.toHaveProperty('truncated');
  });

  it('logs gzip-compressed JSON decoded', () => {
    const log = onlyLog(run(logger, normalizeKinesis(kinesisRecord({ json: { event: 'login' }, gzip: true }))));
    expect(log.fields).toMatchObject({ encoding: PayloadEncoding.Json, data: { event: 'login' }, gzipped: true });
  });

  it('logs each KPL sub-record on its own, with its sub-sequence number', () => {
    const raw = kplAggregateRecord([
      { partitionKey: 'a', data: JSON.stringify({ n: 1 }) },
      { partitionKey: 'b', data: 'plain' },
    ]);
    const logs = normalizeAll(raw).map((record) => onlyLog(run(logger, record)));
    expect(logs.map((log) => [log.fields.partitionKey, log.fields.subSequenceNumber, log.fields.encoding, log.fields.data])).toEqual([
      ['a', 0, PayloadEncoding.Json, { n: 1 }],
      ['b', 1, PayloadEncoding.Text, 'plain'],
    ]);
    expect(logs.map((log) => log.provenance.subSequenceNumber)).toEqual([0, 1]);
  });

  it('redacts attributes by name at any depth of a JSON payload', () => {
    const redacting = createRecordLogger({ redact: ['Email', 'token'] });
    const data = { user: { Email: 'jane@example.com', name: 'Jane' }, sessions: [{ token: 't1', id: 1 }], Email: 'x' };
    const log = onlyLog(run(redacting, normalizeKinesis(kinesisRecord({ json: data }))));
    expect(log.fields.data).toEqual({
      user: { Email: REDACTED, name: 'Jane' },
      sessions: [{ token: REDACTED, id: 1 }],
      Email: REDACTED,
    });
    expect(JSON.stringify(log.fields)).not.toContain('jane@example.com');
  });

  it('selects every record by default, and only what the selector says otherwise', () => {
    const onlyLab = createRecordLogger({ select: { streams: ['Lab-Stream'] } });
    const lab = normalizeKinesis(kinesisRecord());
    const other = normalizeKinesis(kinesisRecord({ streamName: 'Other' }));
    expect(selects(logger, other)).toBe(true);
    expect(selects(onlyLab, lab)).toBe(true);
    expect(selects(onlyLab, other)).toBe(false);
  });

  it('renders any JSON payload as the same JSON and any bytes recoverably', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        const log = onlyLog(run(logger, normalizeKinesis(kinesisRecord({ data: text }))));
        expect(log.fields.encoding).toBe(PayloadEncoding.Json);
        expect(log.fields.data).toEqual(JSON.parse(text));
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const log = onlyLog(run(logger, normalizeKinesis(kinesisRecord({ data: bytes }))));
        const { encoding, data } = log.fields;
        const text = Buffer.from(bytes).toString('utf8');
        if (encoding === PayloadEncoding.Base64) expect(Buffer.from(String(data), 'base64')).toEqual(Buffer.from(bytes));
        else if (encoding === PayloadEncoding.Text) expect(data).toBe(text);
        else expect(data).toEqual(JSON.parse(text));
        // Whatever the bytes, the line is serializable.
        expect(() => JSON.stringify(log.fields)).not.toThrow();
      }),
    );
  });
});

describe('record logger: DynamoDB', () => {
  const logger = createRecordLogger();

  it('logs Orders KEYS_ONLY records with their keys and no images (seed 002)', () => {
    for (const eventName of ['INSERT', 'MODIFY', 'REMOVE'] as const) {
      const raw = dynamodbRecord({ eventName, table: 'Orders', keys: { Id: 1001, Amount: 25 }, viewType: 'KEYS_ONLY' });
      const record = normalizeDynamoDB(raw);
      const log = onlyLog(run(logger, record));
      expect(log.message).toBe(`DynamoDB ${eventName} ${record.recordId} on table Orders.`);
      expect(log.fields).toMatchObject({
        table: 'Orders',
        eventName,
        viewType: 'KEYS_ONLY',
        keys: { Id: 1001, Amount: 25 },
        sequenceNumber: raw.dynamodb?.SequenceNumber,
      });
      expect(log.fields).not.toHaveProperty('newImage');
      expect(log.fields).not.toHaveProperty('oldImage');
      expect(log.provenance).toMatchObject({ source: 'aws:dynamodb', eventID: raw.eventID, streamArn: raw.eventSourceARN });
    }
  });

  it('logs the images the view type carries', () => {
    const keys = { RecordID: 1 };
    const before = { RecordID: 1, Username: 'Jane Doe', Score: 100 };
    const after = { RecordID: 1, Username: 'Jane Doe', Score: 150 };
    const fieldsOf = (eventName: 'INSERT' | 'MODIFY' | 'REMOVE', viewType: 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES') =>
      onlyLog(run(logger, normalizeDynamoDB(dynamodbRecord({ eventName, keys, newImage: after, oldImage: before, viewType })))).fields;

    expect(fieldsOf('MODIFY', 'NEW_AND_OLD_IMAGES')).toMatchObject({ newImage: after, oldImage: before });
    expect(fieldsOf('INSERT', 'NEW_AND_OLD_IMAGES')).toMatchObject({ newImage: after });
    expect(fieldsOf('INSERT', 'NEW_AND_OLD_IMAGES')).not.toHaveProperty('oldImage');
    expect(fieldsOf('REMOVE', 'NEW_AND_OLD_IMAGES')).toMatchObject({ oldImage: before });
    expect(fieldsOf('REMOVE', 'NEW_AND_OLD_IMAGES')).not.toHaveProperty('newImage');
    expect(fieldsOf('MODIFY', 'NEW_IMAGE')).toMatchObject({ newImage: after });
    expect(fieldsOf('MODIFY', 'NEW_IMAGE')).not.toHaveProperty('oldImage');
    expect(fieldsOf('MODIFY', 'OLD_IMAGE')).toMatchObject({ oldImage: before });
    expect(fieldsOf('MODIFY', 'OLD_IMAGE')).not.toHaveProperty('newImage');
  });

  it('marks TTL deletes', () => {
    const raw = dynamodbRecord({ eventName: 'REMOVE', keys: { RecordID: 7 }, oldImage: { RecordID: 7, Score: 1 }, ttlDelete: true });
    expect(onlyLog(run(logger, normalizeDynamoDB(raw))).fields).toMatchObject({ ttlDelete: true, oldImage: { RecordID: 7, Score: 1 } });
  });

  it('serializes every DynamoDB type exactly: big numbers as digits, sets as arrays, binaries as base64', () => {
    const raw = rawDynamodbRecord({
      eventName: 'INSERT',
      keys: { Id: { N: '1' } },
      newImage: {
        Id: { N: '1' },
        Big: { N: '123456789012345678901234567890' },
        Precise: { N: '0.1234567890123456789' },
        Small: { N: '-12.5' },
        Tags: { SS: ['a', 'b'] },
        Ids: { NS: ['1', '99999999999999999999'] },
        Blob: { B: Buffer.from([1, 2, 3]).toString('base64') },
        Blobs: { BS: [Buffer.from('x').toString('base64')] },
        Nothing: { NULL: true },
        Flag: { BOOL: false },
        Nested: { M: { List: { L: [{ S: 's' }, { N: '2' }, { M: { Deep: { N: '18446744073709551616' } } }] } } },
      },
    });
    const log = onlyLog(run(logger, normalizeDynamoDB(raw)));
    const roundTrip: unknown = JSON.parse(JSON.stringify(log.fields));
    expect(roundTrip).toMatchObject({
      newImage: {
        Id: 1,
        Big: '123456789012345678901234567890',
        Precise: '0.1234567890123456789',
        Small: -12.5,
        Tags: ['a', 'b'],
        Ids: [1, '99999999999999999999'],
        Blob: Buffer.from([1, 2, 3]).toString('base64'),
        Blobs: [Buffer.from('x').toString('base64')],
        Nothing: null,
        Flag: false,
        Nested: { List: ['s', 2, { Deep: '18446744073709551616' }] },
      },
    });
  });

  it('redacts attributes by name in keys and images', () => {
    const redacting = createRecordLogger({ redact: ['Email', 'Secret'] });
    const raw = dynamodbRecord({
      eventName: 'MODIFY',
      table: 'Users',
      keys: { Email: 'jane@example.com' },
      oldImage: { Email: 'jane@example.com', Profile: { Secret: 's1', Name: 'Jane' } },
      newImage: { Email: 'jane@example.com', Profile: { Secret: new Set(['s2']), Name: 'Jane' } },
    });
    const log = onlyLog(run(redacting, normalizeDynamoDB(raw)));
    expect(log.fields).toMatchObject({
      keys: { Email: REDACTED },
      oldImage: { Email: REDACTED, Profile: { Secret: REDACTED, Name: 'Jane' } },
      newImage: { Email: REDACTED, Profile: { Secret: REDACTED, Name: 'Jane' } },
    });
    const line = JSON.stringify(log.fields);
    expect(line).not.toContain('jane@example.com');
    expect(line).not.toContain('s1');
  });

  it('never leaves a redacted value in the line, for any item', () => {
    const secret = 'SECRET-VALUE';
    const leaf = fc.oneof(
      fc.integer(),
      fc.string(),
      fc.bigInt({ min: 2n ** 60n, max: 2n ** 100n }),
      fc.constant(new NumberValue('3.14159265358979323846')),
      fc.uint8Array({ maxLength: 8 }),
      fc.constant(new Set(['x', 'y'])),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b', 'Secret'), tie('node'), { maxKeys: 3 })),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('x', 'y', 'Secret'), value, { maxKeys: 3 }), (attributes) => {
        const raw = dynamodbRecord({
          eventName: 'INSERT',
          table: 'Things',
          keys: { Id: 1 },
          newImage: { Id: 1, ...attributes, Secret: secret, Inner: { Secret: secret } },
        });
        const log = onlyLog(run(createRecordLogger({ redact: ['Secret'] }), normalizeDynamoDB(raw)));
        const line = JSON.stringify(log.fields);
        expect(line).not.toContain(secret);
        expect(JSON.parse(line)).toMatchObject({ newImage: { Id: 1, Secret: REDACTED, Inner: { Secret: REDACTED } } });
      }),
      { numRuns: 200 },
    );
  });
});

describe('record logger options', () => {
  it('rejects unknown options and bad values when constructed', () => {
    expect(() => createRecordLogger({ redacted: ['x'] } as never)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOptions, message: expect.stringContaining('"redacted"') }),
    );
    expect(() => createRecordLogger({ level: 'LOUD' } as never)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
    expect(() => createRecordLogger({ redact: [''] })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
  });

  it('logs at the configured level', () => {
    const logger = createRecordLogger({ level: 'DEBUG' });
    expect(onlyLog(run(logger, normalizeKinesis(kinesisRecord()))).level).toBe('DEBUG');
  });
});
