/** Pieces the processors share: view-type checks, exact number reading, option checks. */
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import { ErrorCode, ShardflowError } from '../runtime/errors';
import {
  RecordKind,
  StreamViewType,
  type DynamoDBStreamRecord,
} from '../runtime/model';
import { describeValue } from './json';

const CARRIES_NEW: ReadonlySet<StreamViewType> = new Set([StreamViewType.NewImage, StreamViewType.NewAndOldImages]);
const CARRIES_OLD: ReadonlySet<StreamViewType> = new Set([StreamViewType.OldImage, StreamViewType.NewAndOldImages]);

/** Whether the record's view type carries the new image (without touching the throwing getter). */
export function viewHasNewImage(record: DynamoDBStreamRecord): boolean {
  return CARRIES_NEW.has(record.viewType);
}

/** Whether the record's view type carries the old image (without touching the throwing getter). */
export function viewHasOldImage(record: DynamoDBStreamRecord): boolean {
  return CARRIES_OLD.has(record.viewType);
}

/**
 * Checks that the stream's view type carries the images a delta needs: INSERT the new image, REMOVE the old one,
 * MODIFY both. Throws a permanent `IMAGE_NOT_IN_VIEW` error that says which view type the stream needs; the
 * normalizer's own getter error names only the view type the record has.
 */
export function requireImagesForDelta(record: DynamoDBStreamRecord, processorName: string): void {
  const needsNew = record.kind !== RecordKind.Remove;
  const needsOld = record.kind !== RecordKind.Insert;
  const missing: string[] = [];
  if (needsNew && !viewHasNewImage(record)) missing.push('new');
  if (needsOld && !viewHasOldImage(record)) missing.push('old');
  if (missing.length === 0) return;
  throw new ShardflowError(
    ErrorCode.ImageNotInView,
    `Record ${record.recordId} is a ${record.kind.toUpperCase()} on table ${record.tableName} from a stream with ` +
      `view type ${record.viewType}, which lacks the ${missing.join(' and ')} image that ${processorName} needs ` +
      `to compute the change; the stream needs view type ${StreamViewType.NewAndOldImages}.`,
    { recordId: record.recordId },
  );
}

export type Reading<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/**
 * Reads a number that takes part in a sum. Only safe integers are accepted: effects carry JavaScript numbers and
 * sinks pre-aggregate them, so decimals and integers beyond ±(2^53 − 1) (which normalization delivers as
 * `NumberValue` or `bigint`) would be summed inexactly. Anything else is a reason, never a crash.
 */
export function readSafeInteger(value: unknown, attribute: string): Reading<number> {
  if (value === undefined) return { ok: false, reason: `${attribute} is missing` };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: `${attribute} is ${value}, not a finite number` };
    if (!Number.isInteger(value)) {
      return { ok: false, reason: `${attribute} is ${value}, not an integer (totals are kept as exact integers)` };
    }
    if (!Number.isSafeInteger(value)) return { ok: false, reason: unsafe(attribute, String(value)) };
    return { ok: true, value };
  }
  if (typeof value === 'bigint') return { ok: false, reason: unsafe(attribute, value.toString()) };
  if (value instanceof NumberValue) {
    return {
      ok: false,
      reason: `${attribute} is ${value.toString()}, which a JavaScript number cannot hold exactly (totals are kept as exact integers)`,
    };
  }
  if (typeof value === 'string') return { ok: false, reason: `${attribute} is the string ${describeValue(value, 60)}, not a number` };
  return { ok: false, reason: `${attribute} is ${describeValue(value, 60)}, not a number` };
}

function unsafe(attribute: string, digits: string): string {
  return `${attribute} is ${digits}, beyond the safe integer range ±(2^53 − 1) where sums stay exact`;
}

/** DynamoDB limits a partition key value to 2048 bytes; a longer one would fail in the sink, not here. */
const MAX_PARTITION_KEY_BYTES = 2048;

/** Reads a string that becomes the partition key of a target item. */
export function readKeyString(value: unknown, attribute: string): Reading<string> {
  if (value === undefined) return { ok: false, reason: `${attribute} is missing` };
  if (typeof value !== 'string') return { ok: false, reason: `${attribute} is ${describeValue(value, 60)}, not a string` };
  if (value.length === 0) return { ok: false, reason: `${attribute} is empty, and DynamoDB keys cannot be empty` };
  if (Buffer.byteLength(value, 'utf8') > MAX_PARTITION_KEY_BYTES) {
    return { ok: false, reason: `${attribute} is longer than the ${MAX_PARTITION_KEY_BYTES} bytes DynamoDB allows in a key` };
  }
  return { ok: true, value };
}

/** Throws `INVALID_OPTIONS` for an unknown option key, so a typo is not silently ignored. */
export function checkOptionKeys(component: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ShardflowError(
        ErrorCode.InvalidOptions,
        `${component} does not know the option "${key}"; its options are ${known.join(', ')}.`,
      );
    }
  }
}

/** Throws `INVALID_OPTIONS` unless `value` is a non-empty string. */
export function checkName(component: string, option: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ShardflowError(ErrorCode.InvalidOptions, `${component} needs "${option}" to be a non-empty string.`);
  }
}

/** Throws `INVALID_OPTIONS` unless `value` is an array of non-empty strings. */
export function checkNames(component: string, option: string, value: unknown): void {
  if (!Array.isArray(value) || !value.every((name: unknown) => typeof name === 'string' && name.length > 0)) {
    throw new ShardflowError(ErrorCode.InvalidOptions, `${component} needs "${option}" to be a list of non-empty strings.`);
  }
}
