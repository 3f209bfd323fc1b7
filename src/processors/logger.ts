/**
 * The record logger (from seeds 001 and 002, the Kinesis record logger and the key logger): one structured log
 * line per record. Kinesis data is shown decoded; DynamoDB records show their keys and whichever images the
 * stream's view type carries, so a KEYS_ONLY stream logs keys without asking for images it lacks.
 */
import { carriesNewImage, carriesOldImage } from '../runtime/dynamodb';
import { ErrorCode, isShardflowError } from '../runtime/errors';
import {
  RecordSource,
  type DynamoDBStreamRecord,
  type KinesisStreamRecord,
  type StreamRecord,
  provenanceOf,
} from '../runtime/model';
import { LogLevel, type LogEffect, type Processor, type Selector } from '../runtime/types';
import { checkInteger, checkName, checkNames, checkOneOf, resolveOptions } from '../runtime/options';
import { toJsonValue, type JsonValue } from './json';

export interface RecordLoggerOptions {
  /**
   * The processor's name, used in faults and metrics.
   * @default 'record-logger'
   */
  readonly name?: string;
  /**
   * Which records to log.
   * @default {} (every record)
   * @example { sources: ['aws:dynamodb'], streams: ['Carts'] }
   */
  readonly select?: Selector;
  /**
   * Attribute names whose values are replaced by `[REDACTED]`, at any depth: in Kinesis JSON payloads and in
   * DynamoDB keys and images. Names match exactly (case-sensitive), like DynamoDB attribute names.
   * @default []
   * @example ['Email', 'password']
   */
  readonly redact?: readonly string[];
  /**
   * Level of the log lines.
   * @default 'INFO'
   */
  readonly level?: LogLevel;
  /**
   * The most payload bytes a line shows. A larger Kinesis payload is logged as the text (or base64) of its first
   * `maxDataBytes` bytes, with `truncated: true` and its `size`: CloudWatch Logs keeps at most 256 KB of a line,
   * and a line holding a whole gzip payload (up to 64 MiB inflated) would cost more memory than the batch has.
   * @default 65536
   */
  readonly maxDataBytes?: number;
}

const DEFAULTS: Required<RecordLoggerOptions> = {
  name: 'record-logger',
  select: {},
  redact: [],
  level: LogLevel.Info,
  maxDataBytes: 64 * 1024,
};

// A cut can end inside a UTF-8 character: up to 3 bytes of it may be left out of the text.
const UTF8_TAIL = 3;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const COMPONENT = 'createRecordLogger';

/** How a Kinesis payload was rendered in the log line. */
export const PayloadEncoding = { Json: 'json', Text: 'text', Base64: 'base64' } as const;
export type PayloadEncoding = (typeof PayloadEncoding)[keyof typeof PayloadEncoding];

/**
 * Decodes a payload for display: JSON when it parses (with every number exact), UTF-8 text when it is valid text,
 * base64 otherwise. JSON with a number a double cannot hold is logged as its text, which shows the number exactly.
 */
function decodeForLog(
  record: KinesisStreamRecord,
  redact: ReadonlySet<string>,
  maxDataBytes: number,
): { encoding: PayloadEncoding; data: JsonValue; truncated?: true; size?: number } {
  const size = record.payload.bytes.length;
  if (size > maxDataBytes) return { ...prefixForLog(record.payload.bytes.subarray(0, maxDataBytes)), truncated: true, size };
  let parsed: unknown;
  try {
    parsed = record.payload.json();
  } catch (error) {
    if (!isShardflowError(error)) throw error;
    if (error.code === ErrorCode.InvalidJson || error.code === ErrorCode.InvalidNumber) {
      return { encoding: PayloadEncoding.Text, data: record.payload.text() };
    }
    if (error.code === ErrorCode.InvalidUtf8) {
      return { encoding: PayloadEncoding.Base64, data: Buffer.from(record.payload.bytes).toString('base64') };
    }
    throw error;
  }
  return { encoding: PayloadEncoding.Json, data: toJsonValue(parsed, redact, { recordId: record.recordId, part: 'JSON payload' }) };
}

/** The first bytes of a payload too large to log whole: their text when they are UTF-8 (a cut character aside), base64 otherwise. */
function prefixForLog(prefix: Uint8Array): { encoding: PayloadEncoding; data: string } {
  for (let end = prefix.length; end >= Math.max(0, prefix.length - UTF8_TAIL); end--) {
    try {
      return { encoding: PayloadEncoding.Text, data: utf8.decode(prefix.subarray(0, end)) };
    } catch {
      // A character cut at the end, or not text: try one byte shorter, then give up.
    }
  }
  return { encoding: PayloadEncoding.Base64, data: Buffer.from(prefix).toString('base64') };
}

function kinesisFields(record: KinesisStreamRecord, redact: ReadonlySet<string>, maxDataBytes: number): Record<string, unknown> {
  const { encoding, data, ...cut } = decodeForLog(record, redact, maxDataBytes);
  return {
    recordId: record.recordId,
    source: record.source,
    stream: record.streamName,
    shardId: record.shardId,
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    ...(record.subSequenceNumber === undefined ? {} : { subSequenceNumber: record.subSequenceNumber }),
    arrivalTime: new Date(record.arrivalTime).toISOString(),
    aggregated: record.aggregated,
    gzipped: record.payload.gzipped,
    encoding,
    data,
    ...cut,
  };
}

function dynamodbFields(record: DynamoDBStreamRecord, redact: ReadonlySet<string>): Record<string, unknown> {
  // Read an image only when the view type carries it: the getters throw otherwise (KEYS_ONLY, say).
  const newImage = carriesNewImage(record.viewType) ? record.newImage : undefined;
  const oldImage = carriesOldImage(record.viewType) ? record.oldImage : undefined;
  return {
    recordId: record.recordId,
    source: record.source,
    table: record.tableName,
    eventName: record.kind.toUpperCase(),
    viewType: record.viewType,
    sequenceNumber: record.sequenceNumber,
    creationTime: new Date(record.arrivalTime).toISOString(),
    ...(record.isTtlDelete ? { ttlDelete: true } : {}),
    keys: toJsonValue(record.keys, redact, { recordId: record.recordId, part: 'keys' }),
    ...(newImage === undefined ? {} : { newImage: toJsonValue(newImage, redact, { recordId: record.recordId, part: 'new image' }) }),
    ...(oldImage === undefined ? {} : { oldImage: toJsonValue(oldImage, redact, { recordId: record.recordId, part: 'old image' }) }),
  };
}

function message(record: StreamRecord): string {
  return record.source === RecordSource.Kinesis
    ? `Kinesis record ${record.recordId} from stream ${record.streamName}.`
    : `DynamoDB ${record.kind.toUpperCase()} ${record.recordId} on table ${record.tableName}.`;
}

/**
 * A processor that turns each record into a `LogEffect` (sent to a log sink).
 * @example createRecordLogger({ select: { streams: ['checkout-events'] }, redact: ['Email'] })
 */
export function createRecordLogger(options: RecordLoggerOptions = {}): Processor<LogEffect> {
  const settings = resolveOptions(COMPONENT, options, DEFAULTS);
  checkName(COMPONENT, 'name', settings.name);
  checkNames(COMPONENT, 'redact', settings.redact);
  checkOneOf(COMPONENT, 'level', settings.level, LogLevel);
  checkInteger(COMPONENT, 'maxDataBytes', settings.maxDataBytes, 0);
  const { level, maxDataBytes } = settings;
  const redact: ReadonlySet<string> = new Set(settings.redact);
  return {
    name: settings.name,
    select: settings.select,
    process(record) {
      const fields = record.source === RecordSource.Kinesis ? kinesisFields(record, redact, maxDataBytes) : dynamodbFields(record, redact);
      return [{ type: 'log', provenance: provenanceOf(record), level, message: message(record), fields }];
    },
  };
}
