/**
 * Lambda's event filtering, emulated for the local runner, so an app with `eventSource.filters` sees locally the
 * records it sees on Lambda. A record is delivered when it matches one of its source's patterns (they are OR'ed) and
 * dropped otherwise: the mapping moves past it as if it had been processed (stream-semantics.md, "Filter criteria").
 *
 * Patterns are Lambda's (EventBridge's) JSON rules: every key of a pattern must match (AND); a nested object matches
 * the record's object under that key; a list holds alternatives: literals (string, number, boolean, null) and the
 * operators `prefix`, `suffix`, `equals-ignore-case`, `anything-but`, `numeric` and `exists`; `$or` takes a list of
 * patterns. A record's list field matches when one of its elements does.
 *
 * What a pattern is matched against:
 * - DynamoDB: the record as Lambda delivers it (`eventName`, `dynamodb.NewImage.<attr>.S`, ...).
 * - Kinesis: `data`, the record's data decoded from base64 and parsed as JSON. Data that is not JSON (or a KPL
 *   aggregate) has no `data` to match, so a pattern on `data` drops it. Unverified: AWS documents that Kinesis
 *   mappings filter on `data` only, and that non-JSON data cannot match a `data` rule; that is what this does.
 */
import type { AppDefinition, FilterPattern } from '../app/types';
import { isObject } from '../runtime/record-fields';
import { recordPosition } from './lambda-records';
import { streamNameOf } from './totals';

/** Whether a delivered record reaches the function. */
export type RecordFilter = (record: unknown) => boolean;

const MISSING = Symbol('missing');
type Field = unknown | typeof MISSING;

function numeric(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

const COMPARE: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function literalMatches(expected: unknown, value: unknown): boolean {
  if (typeof expected === 'number') return numeric(value) === expected;
  return value === expected;
}

/** One alternative of a rule's list against one value of the record (`MISSING` when the field is absent). */
function matcherMatches(matcher: unknown, field: Field): boolean {
  if (!isObject(matcher)) return field !== MISSING && literalMatches(matcher, field);
  if ('exists' in matcher) return (field !== MISSING) === (matcher.exists === true);
  if (field === MISSING) return false;
  if ('prefix' in matcher) return typeof field === 'string' && typeof matcher.prefix === 'string' && field.startsWith(matcher.prefix);
  if ('suffix' in matcher) return typeof field === 'string' && typeof matcher.suffix === 'string' && field.endsWith(matcher.suffix);
  if ('equals-ignore-case' in matcher) {
    const expected = matcher['equals-ignore-case'];
    return typeof field === 'string' && typeof expected === 'string' && field.toLowerCase() === expected.toLowerCase();
  }
  if ('anything-but' in matcher) {
    const excluded = matcher['anything-but'];
    if (isObject(excluded) && 'prefix' in excluded) return !(typeof field === 'string' && typeof excluded.prefix === 'string' && field.startsWith(excluded.prefix));
    return !(Array.isArray(excluded) ? excluded : [excluded]).some((value) => literalMatches(value, field));
  }
  if ('numeric' in matcher && Array.isArray(matcher.numeric)) {
    const value = numeric(field);
    if (value === undefined) return false;
    const terms = matcher.numeric;
    for (let i = 0; i + 1 < terms.length; i += 2) {
      const compare = COMPARE[String(terms[i])];
      const bound = numeric(terms[i + 1]);
      if (compare === undefined || bound === undefined || !compare(value, bound)) return false;
    }
    return true;
  }
  return false;
}

/** A rule (the list of alternatives under a key) against the record's field, element by element for a list. */
function ruleMatches(rule: readonly unknown[], field: Field): boolean {
  const values = Array.isArray(field) ? field : [field];
  // `exists` and `anything-but` speak of the field as a whole, so an empty list still counts as present.
  if (values.length === 0) return rule.some((matcher) => matcherMatches(matcher, field));
  return rule.some((matcher) => values.some((value) => matcherMatches(matcher, value)));
}

function patternMatches(pattern: FilterPattern, subject: Field): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    if (key === '$or') return Array.isArray(rule) && rule.some((alternative) => isObject(alternative) && patternMatches(alternative, subject));
    const field: Field = isObject(subject) && Object.hasOwn(subject, key) ? subject[key] : MISSING;
    if (Array.isArray(rule)) return ruleMatches(rule, field);
    return isObject(rule) && field !== MISSING && patternMatches(rule, field);
  });
}

/** What a Kinesis record's patterns are matched against: its data as JSON, when it is JSON. */
function kinesisSubject(record: Record<string, unknown>): Record<string, unknown> {
  const kinesis = isObject(record.kinesis) ? record.kinesis : {};
  if (typeof kinesis.data !== 'string') return {};
  try {
    return { data: JSON.parse(Buffer.from(kinesis.data, 'base64').toString('utf8')) as unknown };
  } catch {
    return {};
  }
}

/** Whether `record` (as Lambda delivers it) matches one of `patterns`. */
export function matchesFilter(record: unknown, patterns: readonly FilterPattern[]): boolean {
  if (!isObject(record)) return false;
  const subject = recordPosition(record).source === 'aws:kinesis' ? kinesisSubject(record) : record;
  return patterns.some((pattern) => patternMatches(pattern, subject));
}

/** The filter of an app's mappings, by the stream each record comes from; undefined when the app filters nothing. */
export function appRecordFilter(app: Pick<AppDefinition, 'eventSource'>): RecordFilter | undefined {
  const filters = app.eventSource.filters;
  if (Object.keys(filters).length === 0) return undefined;
  return (record) => {
    const patterns = filters[streamNameOf(recordPosition(record).streamArn)];
    return patterns === undefined || matchesFilter(record, patterns);
  };
}
