/**
 * A corpus of records that cannot be decoded, by what is wrong with them: the decoder tests check each error,
 * the batch-loop tests that each is captured while the rest of its batch goes on.
 */
import { gzipSync } from 'node:zlib';
import { createRecordLogger } from '../../src/processors/logger';
import { ErrorCode } from '../../src/runtime/errors';
import type { StreamRecord } from '../../src/runtime/model';
import { MAX_INFLATED_BYTES } from '../../src/runtime/payload';
import { dynamodbRecord, kinesisRecord, kplAggregateRecord, rawDynamodbRecord } from './factories';

/**
 * Where the failure shows: when normalizing, when a processor reads the payload (gzip inflates then) or an image,
 * or when the record logger renders the record (`log`).
 */
export type BadInputStage = 'normalize' | 'text' | 'json' | 'newImage' | 'log';

export interface BadInputCase {
  readonly raw: () => Record<string, unknown>;
  readonly code: ErrorCode;
  readonly reason: RegExp;
  readonly stage: BadInputStage;
  /** What the message names the record by; the raw eventID by default. */
  readonly names?: (raw: Record<string, unknown>) => string;
}

const recordLogger = createRecordLogger();

/** Reads what fails at `stage`, as a processor would; `normalize` reads nothing (the record did not decode). */
export function readStage(record: StreamRecord, stage: BadInputStage): void {
  if (stage === 'text' && record.source === 'aws:kinesis') record.payload.text();
  if (stage === 'json') record.payload.json();
  if (stage === 'newImage' && record.source === 'aws:dynamodb') void record.newImage;
  if (stage === 'log') void recordLogger.process(record, { remainingTimeMs: () => Infinity });
}

function withKinesis(raw: Record<string, unknown>, change: (kinesis: Record<string, unknown>) => void): Record<string, unknown> {
  const kinesis = { ...(raw.kinesis as Record<string, unknown>) };
  change(kinesis);
  return { ...raw, kinesis };
}

function withDynamodb(raw: Record<string, unknown>, change: (section: Record<string, unknown>) => void): Record<string, unknown> {
  const section = { ...(raw.dynamodb as Record<string, unknown>) };
  change(section);
  return { ...raw, dynamodb: section };
}

function kplBytes(): Buffer {
  const raw = kplAggregateRecord([
    { partitionKey: 'a', data: 'x'.repeat(100) },
    { partitionKey: 'b', data: 'y'.repeat(100) },
  ]);
  return Buffer.from(raw.kinesis.data, 'base64');
}

const asRecord = (value: object) => value as Record<string, unknown>;

/** An AttributeValue nested `levels` deep, built without recursion (and never stringified by a factory). */
function deepAttribute(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { S: 'bottom' };
  for (let level = 0; level < levels; level++) value = level % 2 === 0 ? { M: { inner: value } } : { L: [value] };
  return value;
}

export const badInput: Record<string, BadInputCase> = {
  'invalid base64 characters': {
    raw: () => asRecord(kinesisRecord({ base64: 'eyJhIjox!Q==' })),
    code: ErrorCode.InvalidBase64,
    reason: /kinesis\.data .*not valid base64/,
    stage: 'normalize',
  },
  'base64 of the wrong length': {
    raw: () => asRecord(kinesisRecord({ base64: 'eyJhIjoxfQ' })),
    code: ErrorCode.InvalidBase64,
    reason: /not valid base64/,
    stage: 'normalize',
  },
  'URL-safe base64': {
    raw: () => asRecord(kinesisRecord({ base64: '-_-_' })),
    code: ErrorCode.InvalidBase64,
    reason: /not valid base64/,
    stage: 'normalize',
  },
  'gzip magic bytes over data that does not inflate': {
    raw: () => asRecord(kinesisRecord({ data: Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('not deflate data')]) })),
    code: ErrorCode.InvalidGzip,
    reason: /gzip magic bytes but does not inflate/,
    stage: 'text',
  },
  'gzip that inflates beyond the limit (a gzip bomb)': {
    raw: () => asRecord(kinesisRecord({ data: gzipSync(Buffer.alloc(MAX_INFLATED_BYTES + 1)) })),
    code: ErrorCode.InvalidGzip,
    reason: /inflates to more than 67108864 bytes/,
    stage: 'text',
  },
  'truncated gzip': {
    raw: () => asRecord(kinesisRecord({ data: gzipSync(Buffer.from('{"a":1}'.repeat(50))).subarray(0, 20) })),
    code: ErrorCode.InvalidGzip,
    reason: /does not inflate/,
    stage: 'text',
  },
  'truncated KPL aggregate': {
    raw: () => asRecord(kinesisRecord({ data: kplBytes().subarray(0, 120) })),
    code: ErrorCode.InvalidKplAggregate,
    reason: /KPL aggregate is truncated/,
    stage: 'normalize',
  },
  'KPL aggregate with a wrong MD5': {
    raw: () => {
      const bytes = kplBytes();
      bytes[bytes.length - 3] ^= 0x01;
      return asRecord(kinesisRecord({ data: bytes }));
    },
    code: ErrorCode.KplChecksumMismatch,
    reason: /trailing MD5 .* does not match/,
    stage: 'normalize',
  },
  'a KPL user record on its own whose data holds two': {
    raw: () => withKinesis(asRecord(kinesisRecord({ data: kplBytes() })), (k) => (k.subSequenceNumber = 3)),
    code: ErrorCode.InvalidKplAggregate,
    reason: /kinesis\.subSequenceNumber says it is one KPL user record, so its data must be a KPL aggregate of exactly one, not 2/,
    stage: 'normalize',
  },
  'a KPL sub-sequence number that is not an integer': {
    raw: () => withKinesis(asRecord(kinesisRecord({ data: kplBytes() })), (k) => (k.subSequenceNumber = '3')),
    code: ErrorCode.MissingField,
    reason: /field kinesis\.subSequenceNumber is a string, expected a KPL sub-sequence number/,
    stage: 'normalize',
  },
  'invalid UTF-8': {
    raw: () => asRecord(kinesisRecord({ data: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]) })),
    code: ErrorCode.InvalidUtf8,
    reason: /payload is not valid UTF-8/,
    stage: 'text',
  },
  'text where JSON is expected': {
    raw: () => asRecord(kinesisRecord({ data: 'hello, this is a test' })),
    code: ErrorCode.InvalidJson,
    reason: /payload is not valid JSON/,
    stage: 'json',
  },
  'a JSON number a double cannot hold exactly': {
    raw: () => asRecord(kinesisRecord({ data: '{"Username":"Jane Doe","Score":2.9999999999999999}' })),
    code: ErrorCode.InvalidNumber,
    reason: /JSON payload has the number 2\.9999999999999999, which a JavaScript number cannot hold exactly \(it would read as 3\)/,
    stage: 'json',
  },
  'invalid JSON in a KPL user record': {
    raw: () => asRecord(kplAggregateRecord([{ partitionKey: 'a', data: '{}' }, { partitionKey: 'b', data: '{"unclosed"' }])),
    code: ErrorCode.InvalidJson,
    reason: /not valid JSON/,
    stage: 'json',
    names: (raw) => `${String(raw.eventID)}#1`,
  },
  'unknown eventSource': {
    raw: () => ({ ...asRecord(kinesisRecord()), eventSource: 'aws:sqs' }),
    code: ErrorCode.UnknownEventSource,
    reason: /eventSource is "aws:sqs", expected "aws:kinesis" or "aws:dynamodb"/,
    stage: 'normalize',
  },
  'missing eventSource': {
    raw: () => {
      const { eventSource: _, ...raw } = asRecord(kinesisRecord());
      return raw;
    },
    code: ErrorCode.UnknownEventSource,
    reason: /eventSource is missing/,
    stage: 'normalize',
  },
  'missing eventID': {
    raw: () => {
      const { eventID: _, ...raw } = asRecord(kinesisRecord());
      return raw;
    },
    code: ErrorCode.MissingField,
    reason: /field eventID is missing/,
    stage: 'normalize',
    names: () => 'at batch position 1',
  },
  'missing Kinesis sequence number': {
    raw: () => withKinesis(asRecord(kinesisRecord()), (k) => delete k.sequenceNumber),
    code: ErrorCode.MissingField,
    reason: /field kinesis\.sequenceNumber is missing/,
    stage: 'normalize',
  },
  'Kinesis sequence number that is not a decimal': {
    raw: () => withKinesis(asRecord(kinesisRecord()), (k) => (k.sequenceNumber = '0123')),
    code: ErrorCode.MissingField,
    reason: /kinesis\.sequenceNumber is "0123", which is not a decimal sequence number/,
    stage: 'normalize',
  },
  'missing Kinesis data': {
    raw: () => withKinesis(asRecord(kinesisRecord()), (k) => delete k.data),
    code: ErrorCode.MissingField,
    reason: /field kinesis\.data is missing, expected a base64 string/,
    stage: 'normalize',
  },
  'missing partition key': {
    raw: () => withKinesis(asRecord(kinesisRecord()), (k) => (k.partitionKey = 42)),
    code: ErrorCode.MissingField,
    reason: /field kinesis\.partitionKey is a number, expected a non-empty string/,
    stage: 'normalize',
  },
  'missing arrival timestamp': {
    raw: () => withKinesis(asRecord(kinesisRecord()), (k) => delete k.approximateArrivalTimestamp),
    code: ErrorCode.MissingField,
    reason: /kinesis\.approximateArrivalTimestamp is missing/,
    stage: 'normalize',
  },
  'ARN that names no stream': {
    raw: () => ({ ...asRecord(kinesisRecord()), eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:queue' }),
    code: ErrorCode.MissingField,
    reason: /eventSourceARN .* is not a Kinesis stream ARN/,
    stage: 'normalize',
  },
  'eventID without a shard id': {
    raw: () => ({ ...asRecord(kinesisRecord()), eventID: 'no-colon-here' }),
    code: ErrorCode.MissingField,
    reason: /eventID does not have the form <shardId>:<sequenceNumber>/,
    stage: 'normalize',
  },
  'missing DynamoDB section': {
    raw: () => {
      const { dynamodb: _, ...raw } = asRecord(dynamodbRecord({ eventName: 'INSERT', keys: { Id: 1 } }));
      return raw;
    },
    code: ErrorCode.MissingField,
    reason: /field dynamodb is missing, expected an object/,
    stage: 'normalize',
  },
  'missing DynamoDB keys': {
    raw: () => withDynamodb(asRecord(dynamodbRecord({ eventName: 'INSERT', keys: { Id: 1 } })), (d) => delete d.Keys),
    code: ErrorCode.MissingField,
    reason: /field dynamodb\.Keys is missing/,
    stage: 'normalize',
  },
  'unknown DynamoDB eventName': {
    raw: () => ({ ...asRecord(dynamodbRecord({ eventName: 'INSERT', keys: { Id: 1 } })), eventName: 'UPSERT' }),
    code: ErrorCode.MissingField,
    reason: /field eventName is a string, expected INSERT, MODIFY or REMOVE/,
    stage: 'normalize',
  },
  'unknown view type': {
    raw: () => withDynamodb(asRecord(dynamodbRecord({ eventName: 'INSERT', keys: { Id: 1 } })), (d) => (d.StreamViewType = 'ALL')),
    code: ErrorCode.MissingField,
    reason: /dynamodb\.StreamViewType is a string, expected KEYS_ONLY/,
    stage: 'normalize',
  },
  'unknown attribute type in the keys': {
    raw: () => asRecord(rawDynamodbRecord({ eventName: 'INSERT', viewType: 'KEYS_ONLY', keys: { Id: { X: '1' } as never } })),
    code: ErrorCode.UnknownAttributeType,
    reason: /attribute keys\.Id has unknown type tag "X"/,
    stage: 'normalize',
  },
  'unknown attribute type in an image': {
    raw: () =>
      asRecord(
        rawDynamodbRecord({
          eventName: 'INSERT',
          keys: { Id: { N: '1' } },
          newImage: { Id: { N: '1' }, profile: { M: { nick: { STRING: 'x' } as never } } },
        }),
      ),
    code: ErrorCode.UnknownAttributeType,
    reason: /attribute newImage\.profile\.nick has unknown type tag "STRING"/,
    stage: 'newImage',
  },
  'an image nested deeper than DynamoDB allows': {
    raw: () => asRecord(rawDynamodbRecord({ eventName: 'INSERT', keys: { Id: { N: '1' } }, newImage: { Id: { N: '1' }, deep: deepAttribute(40) as never } })),
    code: ErrorCode.InvalidAttributeValue,
    reason: /attribute newImage\.deep(\.inner|\[0\])+ nests deeper than DynamoDB's limit of 32 levels/,
    stage: 'newImage',
  },
  'JSON nested 10,000 levels deep (valid, but deeper than any recursive walk can go)': {
    raw: () => asRecord(kinesisRecord({ data: `${'['.repeat(10_000)}1${']'.repeat(10_000)}` })),
    code: ErrorCode.NestingTooDeep,
    reason: /JSON payload nests deeper than 128 levels/,
    stage: 'log',
  },
  'an image nested 100,000 levels deep': {
    raw: () =>
      withDynamodb(asRecord(rawDynamodbRecord({ eventName: 'INSERT', keys: { Id: { N: '1' } }, newImage: { Id: { N: '1' } } })), (d) => {
        d.NewImage = { Id: { N: '1' }, deep: deepAttribute(100_000) };
      }),
    code: ErrorCode.InvalidAttributeValue,
    reason: /attribute newImage\.deep(\.inner|\[0\])+ nests deeper than DynamoDB's limit of 32 levels/,
    stage: 'newImage',
  },
  'keys nested 100,000 levels deep': {
    raw: () =>
      withDynamodb(asRecord(rawDynamodbRecord({ eventName: 'INSERT', viewType: 'KEYS_ONLY', keys: { Id: { N: '1' } } })), (d) => {
        d.Keys = { Id: deepAttribute(100_000) };
      }),
    code: ErrorCode.InvalidAttributeValue,
    reason: /attribute keys\.Id(\.inner|\[0\])+ nests deeper than DynamoDB's limit of 32 levels/,
    stage: 'normalize',
  },
  '39-digit number in the keys': {
    raw: () => asRecord(rawDynamodbRecord({ eventName: 'INSERT', viewType: 'KEYS_ONLY', keys: { Id: { N: '1'.repeat(39) } } })),
    code: ErrorCode.InvalidNumber,
    reason: /attribute keys\.Id has 39 significant digits; DynamoDB numbers hold at most 38/,
    stage: 'normalize',
  },
  '39-digit number in an image': {
    raw: () =>
      asRecord(
        rawDynamodbRecord({
          eventName: 'INSERT',
          keys: { Id: { N: '1' } },
          newImage: { Id: { N: '1' }, scores: { NS: ['1', `0.${'3'.repeat(39)}`] } },
        }),
      ),
    code: ErrorCode.InvalidNumber,
    reason: /attribute newImage\.scores\[1\] has 39 significant digits/,
    stage: 'newImage',
  },
  'malformed number': {
    raw: () => asRecord(rawDynamodbRecord({ eventName: 'INSERT', viewType: 'KEYS_ONLY', keys: { Id: { N: '12abc' } } })),
    code: ErrorCode.InvalidNumber,
    reason: /attribute keys\.Id is "12abc", which is not a number/,
    stage: 'normalize',
  },
  'invalid base64 in a binary attribute': {
    raw: () => asRecord(rawDynamodbRecord({ eventName: 'INSERT', viewType: 'KEYS_ONLY', keys: { Id: { B: 'not base64!' } } })),
    code: ErrorCode.InvalidBase64,
    reason: /attribute keys\.Id has type B but its value is not valid base64/,
    stage: 'normalize',
  },
};
