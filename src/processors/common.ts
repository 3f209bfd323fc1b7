/** Pieces the processors share: the delta rule over a change's images, exact number reading, option checks. */
import { decimalOf, isWholeDecimal } from '../runtime/decimal';
import { carriesNewImage, carriesOldImage } from '../runtime/dynamodb';
import { ErrorCode, ShardflowError, ValidationError } from '../runtime/errors';
import {
  RecordKind,
  StreamViewType,
  provenanceOf,
  type DynamoDBStreamRecord,
  type Item,
} from '../runtime/model';
import { LogLevel, type Amount, type Effect } from '../runtime/types';
import { describeValue, toJsonValue } from './json';

/**
 * Checks that the stream's view type carries the images a delta needs: INSERT the new image, REMOVE the old one,
 * MODIFY both. Throws a permanent `IMAGE_NOT_IN_VIEW` error that says which view type the stream needs; the
 * normalizer's own getter error names only the view type the record has.
 */
function requireImagesForDelta(record: DynamoDBStreamRecord, processorName: string): void {
  const needsNew = record.kind !== RecordKind.Remove;
  const needsOld = record.kind !== RecordKind.Insert;
  const missing: string[] = [];
  if (needsNew && !carriesNewImage(record.viewType)) missing.push('new');
  if (needsOld && !carriesOldImage(record.viewType)) missing.push('old');
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
 * Reads a number that takes part in a sum: an integer of any size, exactly, as a bigint. Numbers come in the
 * runtime's number types (a `number`, a `bigint` beyond the safe range, a `NumberValue` for a long decimal), so
 * sums and deltas stay exact however large they get. Anything else is a reason, never a crash.
 */
export function readInteger(value: unknown, attribute: string): Reading<bigint> {
  if (value === undefined) return { ok: false, reason: `${attribute} is missing` };
  const decimal = decimalOf(value);
  if (decimal === undefined) {
    if (typeof value === 'number') return { ok: false, reason: `${attribute} is ${value}, not a finite number` };
    if (typeof value === 'string') return { ok: false, reason: `${attribute} is the string ${describeValue(value, 60)}, not a number` };
    return { ok: false, reason: `${attribute} is ${describeValue(value, 60)}, not a number` };
  }
  if (!isWholeDecimal(decimal)) {
    return { ok: false, reason: `${attribute} is ${String(value)}, not an integer (totals are kept as exact integers)` };
  }
  return { ok: true, value: decimal.coefficient / 10n ** BigInt(decimal.scale) };
}

/** An exact integer as an `AddEffect` amount: a number while a double holds it, a bigint beyond. */
export function integerAmount(value: bigint): Amount {
  return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** What a delta processor counts and how it names things, for `deltaEffects`. */
export interface DeltaRules<T> {
  /** Who needs the images, for `IMAGE_NOT_IN_VIEW` errors: "the score-aggregator processor". */
  readonly processor: string;
  /** What a change is added to, for rejections: a table, or an item's attribute. */
  readonly target: string;
  /** What one counted item is, for the warning: "score record". */
  readonly counted: string;
  /** Reads what an image counts as; `what` ("old image") goes into the reason. */
  read(image: Item | undefined, what: string): Reading<T>;
  /** The add effects of a change between two counted values (undefined counts nothing). */
  adds(before: T | undefined, after: T | undefined): Effect[];
  /** Where a counted old value went, for the warning: "its old Score 5 was subtracted from Jane's total". */
  subtracted(before: T): string;
}

/**
 * The effects of a change under the rule the delta processors share: each image counts its value when valid and
 * nothing otherwise, and the change applies count(new) − count(old). An invalid new image that replaces nothing
 * counted is a permanent `ValidationError` (captured as a fault); one that replaces a counted value still subtracts
 * it (a fault would leave it counted for ever) and reports the reason in a WARN `LogEffect`.
 */
export function deltaEffects<T>(record: DynamoDBStreamRecord, rules: DeltaRules<T>): Effect[] {
  requireImagesForDelta(record, rules.processor);
  // Rendered only for rejections and warnings: describing the keys costs a JSON conversion.
  const describe = (): string => `${record.kind.toUpperCase()} on table ${record.tableName}, keys ${describeValue(record.keys)}`;
  const reject = (reason: string): ValidationError =>
    new ValidationError(`Record ${record.recordId} (${describe()}) cannot be added to ${rules.target}: ${reason}.`, {
      recordId: record.recordId,
    });
  const before = record.kind === RecordKind.Insert ? undefined : rules.read(record.oldImage, 'old image');
  const after = record.kind === RecordKind.Remove ? undefined : rules.read(record.newImage, 'new image');
  if (after?.ok === false && before?.ok !== true) throw reject(after.reason);
  const effects = rules.adds(before?.ok === true ? before.value : undefined, after?.ok === true ? after.value : undefined);
  if (after?.ok === false && before?.ok === true) {
    effects.push({
      type: 'log',
      provenance: provenanceOf(record),
      level: LogLevel.Warn,
      message:
        `Record ${record.recordId} (${describe()}) made a counted ${rules.counted} invalid: ${after.reason}; ` +
        `${rules.subtracted(before.value)}.`,
      fields: { recordId: record.recordId, table: record.tableName, keys: toJsonValue(record.keys), reason: after.reason },
    });
  }
  return effects;
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
