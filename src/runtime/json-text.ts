/**
 * JSON text of untrusted values without recursion. `JSON.parse` reads any depth iteratively, but
 * `JSON.stringify` recurses on the native stack: a record nested ~10,000 levels deep (valid JSON, and Lambda
 * delivers it parsed) makes it throw a RangeError, which would fail the same way on every delivery. Fault
 * capture, error messages and payload text are written here instead, with an explicit stack.
 */

/** Nesting that rendering for people (logs) accepts; deeper values are refused with `NESTING_TOO_DEEP`. */
export const MAX_RENDERED_DEPTH = 128;

export interface JsonTextOptions {
  /** Applied to every value before it is written (after `toJSON`), e.g. to write bigints as strings. */
  readonly convert?: (value: unknown) => unknown;
  /** Stop once the text is longer than this: the result is its first `maxLength` characters. */
  readonly maxLength?: number;
}

interface Frame {
  readonly array: readonly unknown[] | undefined;
  readonly object: Readonly<Record<string, unknown>> | undefined;
  readonly keys: readonly string[] | undefined;
  index: number;
  wroteMember: boolean;
}

function prepared(value: unknown, key: string, convert: ((value: unknown) => unknown) | undefined): unknown {
  let result = value;
  if (typeof result === 'object' && result !== null && typeof (result as { toJSON?: unknown }).toJSON === 'function') {
    result = (result as { toJSON(key: string): unknown }).toJSON(key);
  }
  return convert === undefined ? result : convert(result);
}

function skipped(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/**
 * What `JSON.stringify(value)` returns (without a replacer or indentation), at any depth: `toJSON` is called,
 * `undefined`, functions and symbols are left out of objects and written as `null` in arrays, non-finite numbers
 * as `null`; a bigint or a cycle throws a TypeError, as there. A top-level value that JSON has no text for is
 * written as `null`.
 */
export function jsonText(value: unknown, options: JsonTextOptions = {}): string {
  const { convert, maxLength = Infinity } = options;
  const parts: string[] = [];
  let length = 0;
  const stack: Frame[] = [];
  const open = new Set<object>();
  const write = (text: string): void => {
    parts.push(text);
    length += text.length;
  };
  const writeValue = (item: unknown): void => {
    if (item === null || skipped(item)) return write('null');
    switch (typeof item) {
      case 'string':
        return write(JSON.stringify(item));
      case 'number':
        return write(Number.isFinite(item) ? String(item) : 'null');
      case 'boolean':
        return write(item ? 'true' : 'false');
      case 'bigint':
        throw new TypeError('Do not know how to serialize a BigInt');
      default:
        break;
    }
    const container = item as object;
    if (open.has(container)) throw new TypeError('Converting circular structure to JSON');
    open.add(container);
    if (Array.isArray(container)) {
      write('[');
      stack.push({ array: container, object: undefined, keys: undefined, index: 0, wroteMember: false });
    } else {
      write('{');
      const object = container as Record<string, unknown>;
      stack.push({ array: undefined, object, keys: Object.keys(object), index: 0, wroteMember: false });
    }
  };

  writeValue(prepared(value, '', convert));
  while (stack.length > 0 && length <= maxLength) {
    const frame = stack[stack.length - 1]!;
    if (frame.array !== undefined) {
      if (frame.index === frame.array.length) {
        write(']');
        open.delete(frame.array);
        stack.pop();
        continue;
      }
      if (frame.index > 0) write(',');
      const index = frame.index++;
      writeValue(prepared(frame.array[index], String(index), convert));
      continue;
    }
    const object = frame.object!;
    const keys = frame.keys!;
    let member: unknown;
    let key: string | undefined;
    while (frame.index < keys.length) {
      key = keys[frame.index++]!;
      member = prepared(object[key], key, convert);
      if (!skipped(member)) break;
      key = undefined;
    }
    if (key === undefined) {
      write('}');
      open.delete(object);
      stack.pop();
      continue;
    }
    write(`${frame.wroteMember ? ',' : ''}${JSON.stringify(key)}:`);
    frame.wroteMember = true;
    writeValue(member);
  }
  const text = parts.join('');
  return text.length > maxLength ? text.slice(0, maxLength) : text;
}

/** Whether arrays and objects in `value` nest more than `limit` levels deep (a cycle nests without end). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: { readonly value: unknown; readonly depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: item, depth } = pending.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= limit) return true;
    const members: Iterable<unknown> = Array.isArray(item) || item instanceof Set ? item : Object.values(item);
    for (const member of members) {
      if (typeof member === 'object' && member !== null) pending.push({ value: member, depth: depth + 1 });
    }
  }
  return false;
}
