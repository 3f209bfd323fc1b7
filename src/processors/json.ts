/**
 * Turns decoded payloads and unmarshalled DynamoDB items into plain JSON for logs and error messages.
 * Unmarshalled items hold values `JSON.stringify` gets wrong: `bigint` throws, `NumberValue`, `Set` and
 * `Uint8Array` come out as `{}` or index maps. This keeps every number exact and every value readable.
 * Both walks are bounded: payloads are untrusted and may nest deeper than any stack.
 */
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import { ErrorCode, ShardflowError } from '../runtime/errors';
import { MAX_RENDERED_DEPTH, jsonText } from '../runtime/json-text';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a redacted attribute's value is replaced with. */
export const REDACTED = '[REDACTED]';

const NO_REDACTION: ReadonlySet<string> = new Set();

/** A leaf as JSON can carry it exactly, or the value itself when it is an array, a set or an object. */
function jsonLeaf(value: unknown): unknown {
  switch (typeof value) {
    case 'undefined':
      return null;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
    case 'function':
    case 'symbol':
      return String(value);
    default:
      break;
  }
  if (value instanceof NumberValue) return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  return value;
}

/** The record and the part of it (e.g. "JSON payload") a converted value comes from, for errors. */
export interface JsonValueOrigin {
  readonly recordId: string;
  readonly part: string;
}

/**
 * A JSON-safe copy of `value`. Numbers that a JSON number cannot carry exactly (`bigint`, `NumberValue`, and
 * non-finite numbers) become decimal strings; sets become arrays; binaries become base64 strings. The value of
 * every object key named in `redact` is replaced by `REDACTED`, at any depth. A value nesting deeper than
 * `MAX_RENDERED_DEPTH` levels throws a permanent `NESTING_TOO_DEEP` error naming `origin`.
 */
export function toJsonValue(value: unknown, redact: ReadonlySet<string> = NO_REDACTION, origin?: JsonValueOrigin): JsonValue {
  return convert(value, redact, origin, 0);
}

function convert(value: unknown, redact: ReadonlySet<string>, origin: JsonValueOrigin | undefined, depth: number): JsonValue {
  const leaf = jsonLeaf(value);
  if (typeof leaf !== 'object' || leaf === null) return leaf as JsonValue;
  if (depth === MAX_RENDERED_DEPTH) {
    const reason = `nests deeper than ${MAX_RENDERED_DEPTH} levels, more than shardflow renders`;
    throw origin === undefined
      ? new ShardflowError(ErrorCode.NestingTooDeep, `A value ${reason}.`)
      : new ShardflowError(ErrorCode.NestingTooDeep, `Record ${origin.recordId} cannot be rendered: its ${origin.part} ${reason}.`, {
          recordId: origin.recordId,
        });
  }
  if (leaf instanceof Set || Array.isArray(leaf)) {
    return Array.from(leaf as Iterable<unknown>, (member) => convert(member, redact, origin, depth + 1));
  }
  const result: { [key: string]: JsonValue } = {};
  for (const [key, member] of Object.entries(leaf)) {
    const converted = redact.has(key) ? REDACTED : convert(member, redact, origin, depth + 1);
    // A key may be "__proto__" (JSON.parse makes it an own property); plain assignment would set the prototype.
    if (key === '__proto__') Object.defineProperty(result, key, { value: converted, enumerable: true, writable: true, configurable: true });
    else result[key] = converted;
  }
  return result;
}

const jsonSet = (value: unknown): unknown => (value instanceof Set ? [...value] : jsonLeaf(value));

/**
 * A short JSON rendering for error messages (e.g. a record's keys), cut to `maxLength` characters. It never
 * throws and reads only as much of the value as it shows, however large or deep the value is.
 */
export function describeValue(value: unknown, maxLength = 200): string {
  const text = jsonText(value, { convert: jsonSet, maxLength: maxLength + 1 });
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
