/**
 * Turns decoded payloads and unmarshalled DynamoDB items into plain JSON for logs and error messages.
 * Unmarshalled items hold values `JSON.stringify` gets wrong: `bigint` throws, `NumberValue`, `Set` and
 * `Uint8Array` come out as `{}` or index maps. This keeps every number exact and every value readable.
 */
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a redacted attribute's value is replaced with. */
export const REDACTED = '[REDACTED]';

const NO_REDACTION: ReadonlySet<string> = new Set();

/**
 * A JSON-safe copy of `value`. Numbers that a JSON number cannot carry exactly (`bigint`, `NumberValue`, and
 * non-finite numbers) become decimal strings; sets become arrays; binaries become base64 strings. The value of
 * every object key named in `redact` is replaced by `REDACTED`, at any depth.
 */
export function toJsonValue(value: unknown, redact: ReadonlySet<string> = NO_REDACTION): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof NumberValue) return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Set) return [...value].map((member: unknown) => toJsonValue(member, redact));
  if (Array.isArray(value)) return value.map((element: unknown) => toJsonValue(element, redact));
  const result: { [key: string]: JsonValue } = {};
  for (const [key, member] of Object.entries(value)) {
    const converted = redact.has(key) ? REDACTED : toJsonValue(member, redact);
    // A key may be "__proto__" (JSON.parse makes it an own property); plain assignment would set the prototype.
    if (key === '__proto__') Object.defineProperty(result, key, { value: converted, enumerable: true, writable: true, configurable: true });
    else result[key] = converted;
  }
  return result;
}

/** A short JSON rendering for error messages (e.g. a record's keys). */
export function describeValue(value: unknown, maxLength = 200): string {
  const text = JSON.stringify(toJsonValue(value));
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
