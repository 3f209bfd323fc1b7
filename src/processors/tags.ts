/**
 * The global tag total (from seed 000, page view tags): one item of the table (the counter) keeps its total
 * attribute equal to the sum of the count attribute over all other items. Each change contributes
 * `new count − old count` (INSERT: + new, REMOVE: − old, TTL deletes included), so the total stays right whatever
 * writes the items. Changes to the counter item itself are ignored: the sink's own writes to it come back on the
 * same stream and must not be counted (or loop).
 *
 * An item counts as its count when that is a safe integer, as 0 when it has none (no views yet; ADD starts from 0
 * too) and as 0 when its count is invalid, and each change applies count(new) − count(old), so the total always
 * equals the sum over the valid items. An invalid new count that replaces nothing counted is a permanent
 * `ValidationError` (captured as a fault); one that replaces a counted one still subtracts it (a fault would leave
 * it counted for ever) and reports the reason in a WARN `LogEffect`.
 */
import { ValidationError } from '../runtime/errors';
import { RecordSource, provenanceOf, type DynamoDBStreamRecord } from '../runtime/model';
import { checkName, resolveOptions } from '../runtime/options';
import type { Effect, Processor } from '../runtime/types';
import { deltaEffects, integerAmount } from './common';
import { exactInteger, itemSchema } from './item-schema';

export interface TagTotalOptions {
  /**
   * The processor's name, used in faults and metrics.
   * @default 'tag-total'
   */
  readonly name?: string;
  /** The table whose stream is consumed (NEW_AND_OLD_IMAGES) and which holds the counter item. */
  readonly table: string;
  /**
   * The table's hash key attribute (a string).
   * @example 'ID'
   */
  readonly keyAttribute: string;
  /**
   * The key of the item holding the total. Other items must not use it.
   * @example 'TOTAL'
   */
  readonly counterId: string;
  /**
   * The attribute each item counts with.
   * @example 'Count'
   */
  readonly countAttribute: string;
  /**
   * The counter item's attribute holding the total.
   * @example 'Total'
   */
  readonly totalAttribute: string;
}

const DEFAULTS = { name: 'tag-total' } satisfies Partial<TagTotalOptions>;

const COMPONENT = 'createTagTotal';

/**
 * A processor of the table's changes into `AddEffect`s on the counter item's total.
 * @example createTagTotal({ table: 'Views', keyAttribute: 'ID', counterId: 'TOTAL', countAttribute: 'Count', totalAttribute: 'Total' })
 */
export function createTagTotal(options: TagTotalOptions): Processor<Effect> {
  const settings = resolveOptions(COMPONENT, options, DEFAULTS, ['table', 'keyAttribute', 'counterId', 'countAttribute', 'totalAttribute']);
  for (const key of ['name', 'table', 'keyAttribute', 'counterId', 'countAttribute', 'totalAttribute'] as const) {
    checkName(COMPONENT, key, settings[key]);
  }
  const { name, table, keyAttribute, counterId, countAttribute, totalAttribute } = settings;

  // An item counts as its count; one without a count (no views yet) as 0, as ADD starts from 0.
  const countedItem = itemSchema<{ count: bigint }>({
    count: { attribute: countAttribute, read: (value) => (value === undefined ? { ok: true, value: 0n } : exactInteger(value)) },
  });

  function process(record: DynamoDBStreamRecord): Effect[] {
    if (record.keys[keyAttribute] === counterId) return [];
    return deltaEffects<{ count: bigint }>(record, {
      processor: `the ${name} processor`,
      target: `${counterId}.${totalAttribute}`,
      counted: 'item',
      schema: countedItem,
      adds(before, after) {
        const delta = (after?.count ?? 0n) - (before?.count ?? 0n);
        return delta === 0n
          ? []
          : [{ type: 'add', provenance: provenanceOf(record), table, key: { [keyAttribute]: counterId }, add: { [totalAttribute]: integerAmount(delta) } }];
      },
      subtracted: (before) => `its old ${countAttribute} ${before.count} was subtracted from ${counterId}.${totalAttribute}`,
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
