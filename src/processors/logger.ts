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
import { checkName, checkNames, checkOneOf, resolveOptions } from '../runtime/options';
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
}

const DEFAULTS: Required<RecordLoggerOptions> = {
  name: 'record-logger',
  select: {},
  redact: [],
  level: LogLevel.Info,
};

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
): { encoding: PayloadEncoding; data: JsonValue } {
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

function kinesisFields(record: KinesisStreamRecord, redact: ReadonlySet<string>): Record<string, unknown> {
  const { encoding, data } = decodeForLog(record, redact);
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
  const level = settings.level;
  const redact: ReadonlySet<string> = new Set(settings.redact);
  return {
    name: settings.name,
    select: settings.select,
    process(record) {
      const fields = record.source === RecordSource.Kinesis ? kinesisFields(record, redact) : dynamodbFields(record, redact);
      return [{ type: 'log', provenance: provenanceOf(record), level, message: message(record), fields }];
    },
  };
}
