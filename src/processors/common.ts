/** Pieces the delta processors share: the delta rule over a change's images, and exact integer amounts. */
import { carriesNewImage, carriesOldImage } from '../runtime/dynamodb';
import { ErrorCode, ShardflowError, ValidationError } from '../runtime/errors';
import {
  RecordKind,
  StreamViewType,
  provenanceOf,
  type DynamoDBStreamRecord,
} from '../runtime/model';
import { LogLevel, type Amount, type Effect } from '../runtime/types';
import { issueReason, type ItemSchema, type Reading } from './item-schema';
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
  /** What an image counts as, when it is valid. */
  readonly schema: ItemSchema<T>;
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
  const read = (image: unknown, what: string): Reading<T> => {
    const result = rules.schema['~standard'].validate(image);
    return result.issues ? { ok: false, reason: issueReason(result.issues, what) } : { ok: true, value: result.value };
  };
  const before = record.kind === RecordKind.Insert ? undefined : read(record.oldImage, 'old image');
  const after = record.kind === RecordKind.Remove ? undefined : read(record.newImage, 'new image');
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
