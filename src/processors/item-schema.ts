/**
 * The built-in processors' schemas: a small Standard Schema of an object (a JSON payload or an unmarshalled item)
 * whose named attributes each pass a check, and the checks they share (exact integers, key strings). It is the
 * interface zod and valibot schemas implement, so these processors say what they read the way a user's processor
 * does. Its issue messages read after the attribute's name (`Score` + `is missing`), as these processors' errors
 * always have, and it validates synchronously.
 */
import { decimalOf, isWholeDecimal } from '../runtime/decimal';
import type { StandardSchemaIssue, StandardSchemaProps, StandardSchemaResult, StandardSchemaV1 } from '../runtime/standard-schema';
import { describeValue } from './json';

/** An attribute's value read, or why not: a phrase that follows the attribute's name ("is missing"). */
export type Reading<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** One attribute of an item schema: where it is read from, and how. */
export interface ItemField<T> {
  readonly attribute: string;
  readonly read: (value: unknown) => Reading<T>;
}

/** A Standard Schema whose `validate` never returns a promise. */
export interface ItemSchema<T> extends StandardSchemaV1<unknown, T> {
  readonly '~standard': SyncSchemaProps<T>;
}

interface SyncSchemaProps<T> extends StandardSchemaProps<unknown, T> {
  readonly validate: (value: unknown) => StandardSchemaResult<T>;
}

/**
 * A schema of an object with the given attributes; its output has the fields' keys. Anything but an object is one
 * issue at the root; otherwise every attribute that does not read is an issue at its name.
 */
export function itemSchema<T extends object>(fields: { readonly [K in keyof T]: ItemField<T[K]> }): ItemSchema<T> {
  const entries: readonly [string, ItemField<unknown>][] = Object.entries(fields);
  const expected = `an object with ${entries.map(([, field]) => field.attribute).join(' and ')}`;
  return {
    '~standard': {
      version: 1,
      vendor: 'shardflow',
      validate(value: unknown): StandardSchemaResult<T> {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          return { issues: [{ message: `is ${describeValue(value, 60)}, not ${expected}` }] };
        }
        const output: Record<string, unknown> = {};
        const issues: StandardSchemaIssue[] = [];
        for (const [key, { attribute, read }] of entries) {
          const reading = read((value as Readonly<Record<string, unknown>>)[attribute]);
          if (reading.ok) output[key] = reading.value;
          else issues.push({ path: [attribute], message: reading.reason });
        }
        // The output has a value for every field.
        return issues.length === 0 ? { value: output as T } : { issues };
      },
    },
  };
}

/** A schema's issues as one reason: "in the new image, Score is missing", "its JSON payload is [1,2], not an object with ...". */
export function issueReason(issues: readonly StandardSchemaIssue[], what: string): string {
  return issues
    .map(({ path, message }) => (path === undefined || path.length === 0 ? `its ${what} ${message}` : `in the ${what}, ${path.map(String).join('.')} ${message}`))
    .join('; ');
}

/**
 * A number that takes part in a sum: an integer of any size, exactly, as a bigint. Numbers come in the runtime's
 * number types (a `number`, a `bigint` beyond the safe range, a `NumberValue` for a long decimal), so sums and
 * deltas stay exact however large they get. Anything else is a reason, never a crash.
 */
export function exactInteger(value: unknown): Reading<bigint> {
  if (value === undefined) return { ok: false, reason: 'is missing' };
  const decimal = decimalOf(value);
  if (decimal === undefined) {
    if (typeof value === 'number') return { ok: false, reason: `is ${value}, not a finite number` };
    if (typeof value === 'string') return { ok: false, reason: `is the string ${describeValue(value, 60)}, not a number` };
    return { ok: false, reason: `is ${describeValue(value, 60)}, not a number` };
  }
  if (!isWholeDecimal(decimal)) return { ok: false, reason: `is ${String(value)}, not an integer (totals are kept as exact integers)` };
  return { ok: true, value: decimal.coefficient / 10n ** BigInt(decimal.scale) };
}

/** DynamoDB limits a partition key value to 2048 bytes; a longer one would fail in the sink, not here. */
const MAX_PARTITION_KEY_BYTES = 2048;

/** A string that becomes the partition key of a target item. */
export function keyString(value: unknown): Reading<string> {
  if (value === undefined) return { ok: false, reason: 'is missing' };
  if (typeof value !== 'string') return { ok: false, reason: `is ${describeValue(value, 60)}, not a string` };
  if (value.length === 0) return { ok: false, reason: 'is empty, and DynamoDB keys cannot be empty' };
  if (Buffer.byteLength(value, 'utf8') > MAX_PARTITION_KEY_BYTES) {
    return { ok: false, reason: `is longer than the ${MAX_PARTITION_KEY_BYTES} bytes DynamoDB allows in a key` };
  }
  return { ok: true, value };
}
