/**
 * The global tag total (seed 000 "page view tags"): the item `ID = "COUNTER"` keeps `TotalViews` equal to the sum
 * of `Count` over all tag items of the PageViews table. Each change contributes `new Count − old Count`
 * (INSERT: + new, REMOVE: − old, TTL deletes included), so the total stays right whatever writes the tag items.
 * Changes to the COUNTER item itself are ignored: the sink's own writes to it come back on the same stream and
 * must not be counted (or loop).
 *
 * An item counts as its `Count` when that is a safe integer, as 0 when it has no `Count` (no views yet; ADD
 * starts from 0 too) and as 0 when its `Count` is invalid, and each change applies count(new) − count(old), so
 * TotalViews always equals the sum over the valid tag items. An invalid new `Count` that replaces nothing counted
 * is a permanent `ValidationError` (captured as a fault); one that replaces a counted `Count` still subtracts it
 * (a fault would leave it counted for ever) and reports the reason in a WARN `LogEffect`.
 */
import { ValidationError } from '../runtime/errors';
import { RecordSource, provenanceOf, type DynamoDBStreamRecord, type Item } from '../runtime/model';
import type { Effect, Processor } from '../runtime/types';
import { checkName, checkOptionKeys, deltaEffects, readSafeInteger, type Reading } from './common';

export interface TagTotalOptions {
  /**
   * The processor's name, used in faults and metrics.
   * @default 'tag-total'
   */
  readonly name?: string;
  /**
   * The page-view table: key `ID` (S), tag items carry `Count`; its stream must be NEW_AND_OLD_IMAGES.
   * @default 'PageViews'
   */
  readonly table?: string;
  /**
   * The `ID` of the item holding the total. Tag items must not use it.
   * @default 'COUNTER'
   */
  readonly counterId?: string;
}

const DEFAULTS = {
  name: 'tag-total',
  table: 'PageViews',
  counterId: 'COUNTER',
} satisfies Required<TagTotalOptions>;

const COMPONENT = 'The tag total';

function readCount(image: Item | undefined, what: string): Reading<number> {
  if (image === undefined) return { ok: false, reason: `the ${what} is missing` };
  if (image.Count === undefined) return { ok: true, value: 0 };
  const count = readSafeInteger(image.Count, 'Count');
  return count.ok ? count : { ok: false, reason: `in the ${what}, ${count.reason}` };
}

/**
 * A processor of PageViews changes into `AddEffect`s on the COUNTER item's `TotalViews`.
 * @example createTagTotal({ table: 'PageViews' })
 */
export function createTagTotal(options: TagTotalOptions = {}): Processor<Effect> {
  checkOptionKeys(COMPONENT, options, Object.keys(DEFAULTS));
  const settings = { ...DEFAULTS, ...options };
  checkName(COMPONENT, 'name', settings.name);
  checkName(COMPONENT, 'table', settings.table);
  checkName(COMPONENT, 'counterId', settings.counterId);
  const { name, table, counterId } = settings;

  function process(record: DynamoDBStreamRecord): Effect[] {
    if (record.keys.ID === counterId) return [];
    return deltaEffects<number>(record, {
      processor: `the ${name} processor`,
      target: `${counterId}.TotalViews`,
      counted: 'tag item',
      read: readCount,
      adds(before = 0, after = 0, reject) {
        const delta = after - before;
        if (!Number.isSafeInteger(delta)) throw reject('the change of Count is beyond the safe integer range ±(2^53 − 1)');
        return delta === 0 ? [] : [{ type: 'add', provenance: provenanceOf(record), table, key: { ID: counterId }, add: { TotalViews: delta } }];
      },
      subtracted: (before) => `its old Count ${before} was subtracted from ${counterId}.TotalViews`,
    });
  }

  return {
    name,
    select: {
      sources: [RecordSource.DynamoDB],
      streams: [table],
    },
    process(record) {
      // The selector admits only DynamoDB records of the table; anything else is a routing mistake, not data to drop.
      if (record.source !== RecordSource.DynamoDB) {
        throw new ValidationError(
          `Record ${record.recordId} from Kinesis stream ${record.streamName} is not a change of table ${table}, ` +
            `the only records the ${name} processor handles.`,
          { recordId: record.recordId },
        );
      }
      return process(record);
    },
  };
}
