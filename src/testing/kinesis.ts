/**
 * Kinesis records and events as Lambda delivers them, shaped like the samples in the Lambda developer guide: JSON,
 * text or binary data, gzip-compressed or not, or a `kinesis.data` field given as is (invalid base64 on purpose).
 */
import { gzipSync } from 'node:zlib';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { optionsError } from '../runtime/options';
import { FACTORY_DEFAULTS } from './defaults';
import { nextTick, sequenceNumberAt, TIMELINE_START_SECONDS } from './timeline';

// A real Kinesis sequence number (56 digits); each record adds its tick to it.
const KINESIS_SEQUENCE_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;

/**
 * The ARN of a Kinesis stream in the factories' account and region.
 * @param streamName - The stream's name; 'test-stream' when left out.
 * @example
 * expect(record.streamArn).toBe(kinesisStreamArn('checkout-events'));
 */
export function kinesisStreamArn(streamName: string = FACTORY_DEFAULTS.streamName): string {
  return `arn:aws:kinesis:${FACTORY_DEFAULTS.region}:${FACTORY_DEFAULTS.accountId}:stream/${streamName}`;
}

/** Everything about a Kinesis record but its data. */
export interface KinesisRecordFields {
  /** @default 'pk-1' */
  readonly partitionKey?: string;
  /** @default the next of a counter over a real 56-digit sequence number, so later records sort later */
  readonly sequenceNumber?: string;
  /** @default 'shardId-000000000000' */
  readonly shardId?: string;
  /** @default 'test-stream' */
  readonly streamName?: string;
  /** `approximateArrivalTimestamp`: epoch seconds with a fraction. @default 2026-01-01 plus the counter in milliseconds */
  readonly arrivalSeconds?: number;
}

/** Data given as bytes or text. */
export interface BytesData {
  /**
   * Raw bytes, or a string sent as UTF-8.
   * @default the JSON text `{}`
   */
  readonly data?: Uint8Array | string;
  readonly json?: never;
  readonly base64?: never;
  /**
   * gzip the data before base64, as CloudWatch Logs subscriptions do.
   * @default false
   */
  readonly gzip?: boolean;
}

/** Data given as a value sent as its JSON text. */
export interface JsonData {
  readonly data?: never;
  /** A value sent as its JSON text. */
  readonly json: unknown;
  readonly base64?: never;
  /**
   * gzip the JSON text before base64.
   * @default false
   */
  readonly gzip?: boolean;
}

/** Data given as the exact `kinesis.data` field. */
export interface Base64Data {
  readonly data?: never;
  readonly json?: never;
  /** The exact `kinesis.data` field, not encoded again: for invalid base64 on purpose. */
  readonly base64: string;
  readonly gzip?: never;
}

/** A Kinesis record's fields and its data, given one way: `data`, `json` or `base64`. */
export type KinesisRecordOptions = KinesisRecordFields & (BytesData | JsonData | Base64Data);

function encodedData(options: KinesisRecordOptions): string {
  const given = (['data', 'json', 'base64'] as const).filter((key) => options[key] !== undefined);
  if (given.length > 1) throw optionsError('kinesisRecord', `options ${given.map((key) => `"${key}"`).join(' and ')} exclude each other`);
  if (options.base64 !== undefined) {
    if (options.gzip === true) throw optionsError('kinesisRecord', 'option "gzip" does not apply to "base64", which is sent as given');
    return options.base64;
  }
  const bytes =
    options.data === undefined
      ? Buffer.from(JSON.stringify(options.json === undefined ? {} : options.json), 'utf8')
      : typeof options.data === 'string'
        ? Buffer.from(options.data, 'utf8')
        : options.data;
  return Buffer.from(options.gzip === true ? gzipSync(bytes) : bytes).toString('base64');
}

/**
 * A Kinesis record as Lambda delivers it. Without data, the data is the JSON `{}`.
 * @example
 * kinesisRecord({ streamName: 'checkout-events', partitionKey: 'ana', json: { customer: 'ana', total: 12.5 } });
 * kinesisRecord({ data: 'plain text', gzip: true });
 * kinesisRecord({ base64: '%%%' }); // fails to decode: INVALID_BASE64
 */
export function kinesisRecord(options: KinesisRecordOptions = {}): KinesisStreamRecord {
  const tick = nextTick();
  const sequenceNumber = options.sequenceNumber ?? sequenceNumberAt(KINESIS_SEQUENCE_BASE, tick);
  const shardId = options.shardId ?? FACTORY_DEFAULTS.shardId;
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: options.partitionKey ?? FACTORY_DEFAULTS.partitionKey,
      sequenceNumber,
      data: encodedData(options),
      approximateArrivalTimestamp: options.arrivalSeconds ?? TIMELINE_START_SECONDS + tick / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${FACTORY_DEFAULTS.accountId}:role/lambda-role`,
    awsRegion: FACTORY_DEFAULTS.region,
    eventSourceARN: kinesisStreamArn(options.streamName),
  };
}

/**
 * A Kinesis event: the records Lambda hands one invocation.
 * @example
 * await handler(kinesisEvent([kinesisRecord({ json: { a: 1 } }), kinesisRecord({ json: { a: 2 } })]), context);
 */
export function kinesisEvent(records: readonly KinesisStreamRecord[]): KinesisStreamEvent {
  return { Records: [...records] };
}
