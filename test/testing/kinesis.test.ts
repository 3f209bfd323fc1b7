/** The public Kinesis factories: every record they make normalizes to what was asked for. */
import fc from 'fast-check';
import { ErrorCode, compareSequenceNumbers, normalizeRecord, type KinesisStreamRecord } from '../../src/index';
import { FACTORY_DEFAULTS, kinesisEvent, kinesisRecord, kinesisStreamArn, type KinesisRecordOptions } from '../../src/testing';
import { normalizeAll } from '../helpers/normalize';

const normalizeOne = (raw: unknown) => normalizeAll(raw)[0] as KinesisStreamRecord;

// Data whose first bytes are the gzip or KPL magic is read as such by design; the factories' `gzip` and
// `kplAggregateRecord` make those, so plain bytes leave them out.
const plainBytes = fc.uint8Array({ minLength: 1, maxLength: 200 }).filter((bytes) => bytes[0] !== 0x1f && bytes[0] !== 0xf3);
// payload.text() drops a leading byte-order mark, as documented.
const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }).filter((value) => !value.startsWith('\uFEFF'));

type Data =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'bytes'; readonly value: Uint8Array };

const data: fc.Arbitrary<Data> = fc.oneof(
  fc.jsonValue().map((value) => ({ kind: 'json' as const, value })),
  text.map((value) => ({ kind: 'text' as const, value })),
  plainBytes.map((value) => ({ kind: 'bytes' as const, value })),
);

function options(given: Data, gzip: boolean): KinesisRecordOptions {
  return given.kind === 'json' ? { json: given.value, gzip } : { data: given.value, gzip };
}

describe('kinesisRecord', () => {
  it('normalizes to the data, encoding, stream, shard and partition key asked for', () => {
    fc.assert(
      fc.property(
        data,
        fc.boolean(),
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,128}$/),
        fc.string({ minLength: 1, maxLength: 256 }),
        fc.integer({ min: 0, max: 999 }),
        (given, gzip, streamName, partitionKey, shard) => {
          const shardId = `shardId-${String(shard).padStart(12, '0')}`;
          const raw = kinesisRecord({ ...options(given, gzip), streamName, partitionKey, shardId });
          const record = normalizeOne(raw);
          expect(record).toMatchObject({ source: 'aws:kinesis', streamName, streamArn: kinesisStreamArn(streamName), shardId, partitionKey });
          expect(record.payload.gzipped).toBe(gzip);
          if (given.kind === 'json') expect(record.payload.json()).toEqual(JSON.parse(JSON.stringify(given.value)));
          if (given.kind === 'text') expect(record.payload.text()).toBe(given.value);
          if (given.kind === 'bytes') expect(Buffer.from(record.payload.bytes)).toEqual(Buffer.from(given.value));
        },
      ),
    );
  });

  it('sends `base64` as given, so invalid base64 fails to decode', () => {
    const raw = kinesisRecord({ base64: 'eyJhIjox!Q==' });
    expect(raw.kinesis.data).toBe('eyJhIjox!Q==');
    const result = normalizeRecord(raw, 0);
    expect(result.ok ? undefined : result.error.code).toBe(ErrorCode.InvalidBase64);
  });

  it('gives records made one after another increasing sequence numbers and arrival times, on the neutral defaults', () => {
    const records = Array.from({ length: 5 }, () => normalizeOne(kinesisRecord()));
    for (let i = 1; i < records.length; i++) {
      expect(compareSequenceNumbers(records[i - 1]!.sequenceNumber, records[i]!.sequenceNumber)).toBe(-1);
      expect(records[i]!.arrivalTime).toBeGreaterThan(records[i - 1]!.arrivalTime);
    }
    expect(records[0]).toMatchObject({
      streamName: FACTORY_DEFAULTS.streamName,
      shardId: FACTORY_DEFAULTS.shardId,
      partitionKey: FACTORY_DEFAULTS.partitionKey,
      awsRegion: FACTORY_DEFAULTS.region,
    });
    expect(records[0]!.payload.json()).toEqual({});
  });

  it('keeps an explicit sequence number and arrival time', () => {
    const record = normalizeOne(kinesisRecord({ sequenceNumber: '12345', arrivalSeconds: 1_700_000_000.25 }));
    expect(record).toMatchObject({ sequenceNumber: '12345', arrivalTime: 1_700_000_000_250 });
  });

  it('refuses data given two ways, and gzip for data sent as given', () => {
    const invalid = (options: unknown) => () => kinesisRecord(options as KinesisRecordOptions);
    expect(invalid({ json: {}, data: 'x' })).toThrow(/options "data" and "json" exclude each other/);
    expect(invalid({ base64: 'AA==', gzip: true })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
  });
});

describe('kinesisEvent', () => {
  it('holds the records in order, in an array of its own', () => {
    const records = [kinesisRecord(), kinesisRecord()];
    const event = kinesisEvent(records);
    expect(event.Records).toEqual(records);
    expect(event.Records).not.toBe(records);
  });
});
