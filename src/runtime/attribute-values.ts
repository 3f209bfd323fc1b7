/**
 * DynamoDB AttributeValues as they travel in stream records (JSON, binaries in base64) -> plain values.
 *
 * Numbers follow one policy, so none loses precision silently:
 * - integers within the safe range, and decimals with at most 15 significant digits -> `number`
 *   (any decimal of up to 15 digits survives a round trip through a double);
 * - other integers -> `bigint`;
 * - other decimals -> `NumberValue` holding the string as delivered;
 * - more than 38 significant digits, a magnitude outside DynamoDB's 1E-130 .. <1E126, or bad syntax ->
 *   `INVALID_NUMBER`.
 *
 * Why not `unmarshall` from @aws-sdk/util-dynamodb: its map conversion assigns `result[name] = value` on a
 * plain object, so an attribute named `__proto__` disappears and becomes the item's prototype; it returns
 * B values as given (base64 text here, not bytes); and it reports a bad value without the attribute's path.
 * Validation and conversion are one walk here (faster than `unmarshall` alone on the benchmark's items);
 * `NumberValue` is util-dynamodb's, so exact decimals compare equal to what the SDK's `wrapNumbers` produces.
 */
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import { ErrorCode, decodeError, type ShardflowError } from './errors';
import type { Item } from './model';
import { decodeBase64Strict } from './payload';
import { isObject } from './record-fields';

export type NativeValue = Item[string];

// sign, integer digits, fraction digits, exponent
const NUMBER_SYNTAX = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/;
const MAX_SIGNIFICANT_DIGITS = 38;
// DynamoDB supports nested attributes up to 32 levels deep.
const MAX_NESTING_DEPTH = 32;
const MAX_EXACT_DECIMAL_DIGITS = 15;
const CHAR_0 = 48;
const CHAR_9 = 57;
const CHAR_MINUS = 45;
const CHAR_DOT = 46;

/**
 * Numbers of at most 15 characters without exponent (nearly all of them): at most 15 digits, so `Number` is
 * exact and within DynamoDB's range. Undefined when the text needs the full parse.
 */
function shortNumber(text: string): number | undefined {
  const length = text.length;
  if (length > MAX_EXACT_DECIMAL_DIGITS) return undefined;
  let i = length > 0 && text.charCodeAt(0) === CHAR_MINUS ? 1 : 0;
  let digits = 0;
  let dots = 0;
  for (; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= CHAR_0 && c <= CHAR_9) digits++;
    else if (c === CHAR_DOT && dots === 0) dots++;
    else return undefined;
  }
  // `+ 0` turns -0 into 0: DynamoDB has no negative zero.
  return digits === 0 ? undefined : Number(text) + 0;
}

/**
 * One walk over an item: validates and converts. Attribute paths are kept as a stack of segments and joined
 * only for an error message, so a valid item costs no path strings.
 */
class Walker {
  readonly segments: (string | number)[] = [];
  recordId = '';
  root = '';

  /** Starts a walk over another item; a walk that threw may have left segments behind. */
  reset(recordId: string, root: string): this {
    this.recordId = recordId;
    this.root = root;
    if (this.segments.length !== 0) this.segments.length = 0;
    return this;
  }

  /** Pushes a placeholder segment for list and set elements; returns its index. */
  enter(): number {
    return this.segments.push(0) - 1;
  }

  private path(): string {
    let path = this.root;
    for (const segment of this.segments) path += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
    return path;
  }

  fail(code: ErrorCode, reason: string): ShardflowError {
    return decodeError(code, this.recordId, `attribute ${this.path()} ${reason}`);
  }

  wrongValue(tag: string, expected: string, value: unknown): ShardflowError {
    const actual = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return this.fail(ErrorCode.MissingField, `has type ${tag} but its value is ${actual}, expected ${expected}`);
  }

  number(text: unknown): number | bigint | NumberValue {
    if (typeof text !== 'string') throw this.wrongValue('N', 'a string', text);
    const short = shortNumber(text);
    if (short !== undefined) return short;
    const match = NUMBER_SYNTAX.exec(text);
    const integerDigits = match?.[1] ?? '';
    const fractionDigits = match?.[2] ?? '';
    if (match === null || integerDigits.length + fractionDigits.length === 0) {
      throw this.fail(ErrorCode.InvalidNumber, `is ${JSON.stringify(text.slice(0, 60))}, which is not a number`);
    }
    const digits = fractionDigits.length === 0 ? integerDigits : integerDigits + fractionDigits;
    let first = 0;
    while (first < digits.length && digits.charCodeAt(first) === CHAR_0) first++;
    if (first === digits.length) return 0;
    let end = digits.length;
    while (digits.charCodeAt(end - 1) === CHAR_0) end--;
    const significant = end - first;
    if (significant > MAX_SIGNIFICANT_DIGITS) {
      throw this.fail(
        ErrorCode.InvalidNumber,
        `has ${significant} significant digits; DynamoDB numbers hold at most ${MAX_SIGNIFICANT_DIGITS}`,
      );
    }
    // The value is 0.<significant digits> x 10^magnitude.
    const magnitude = integerDigits.length - first + (match[3] === undefined ? 0 : Number(match[3]));
    if (magnitude < -129 || magnitude > 126) {
      throw this.fail(ErrorCode.InvalidNumber, `is ${text}, outside DynamoDB's range of 1E-130 to 9.99...E+125`);
    }
    if (magnitude < significant) {
      // A decimal: 15 digits always survive a double; more keep their exact text.
      return significant <= MAX_EXACT_DECIMAL_DIGITS ? Number(text) : new NumberValue(text);
    }
    if (magnitude <= 16) {
      // Correct rounding maps every integer above MAX_SAFE_INTEGER to a double above it, so this test is exact.
      const value = Number(text);
      if (Number.isSafeInteger(value)) return value;
    }
    const negative = text.charCodeAt(0) === CHAR_MINUS;
    return BigInt(`${negative ? '-' : ''}${digits.slice(first, end)}${'0'.repeat(magnitude - significant)}`);
  }

  binary(text: unknown, tag: string): Uint8Array {
    if (typeof text !== 'string') throw this.wrongValue(tag, 'a base64 string', text);
    const bytes = decodeBase64Strict(text);
    if (bytes === undefined) throw this.fail(ErrorCode.InvalidBase64, `has type ${tag} but its value is not valid base64`);
    // A plain Uint8Array view of the same memory, as the model promises (a Buffer differs in equality and JSON).
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  array(value: unknown, tag: string): readonly unknown[] {
    if (!Array.isArray(value)) throw this.wrongValue(tag, 'an array', value);
    return value;
  }

  value(attribute: unknown): NativeValue {
    if (!isObject(attribute)) {
      throw this.fail(
        ErrorCode.UnknownAttributeType,
        `is ${attribute === null ? 'null' : `a ${Array.isArray(attribute) ? 'array' : typeof attribute}`}, not an AttributeValue`,
      );
    }
    let tag: string | undefined;
    for (const key in attribute) {
      if (tag !== undefined) throw this.fail(ErrorCode.UnknownAttributeType, `has more than one type tag (${tag}, ${key})`);
      tag = key;
    }
    const value = tag === undefined ? undefined : attribute[tag];
    switch (tag) {
      case 'S':
        if (typeof value !== 'string') throw this.wrongValue(tag, 'a string', value);
        return value;
      case 'N':
        return this.number(value);
      case 'BOOL':
        if (typeof value !== 'boolean') throw this.wrongValue(tag, 'a boolean', value);
        return value;
      case 'NULL':
        if (value !== true) throw this.wrongValue(tag, 'true', value);
        return null;
      case 'M':
        if (!isObject(value)) throw this.wrongValue(tag, 'an object', value);
        this.checkDepth();
        return this.map(value);
      case 'L': {
        const list = this.array(value, tag);
        this.checkDepth();
        const result = new Array<NativeValue>(list.length);
        const depth = this.enter();
        for (let i = 0; i < list.length; i++) {
          this.segments[depth] = i;
          result[i] = this.value(list[i]);
        }
        this.segments.pop();
        return result;
      }
      case 'B':
        return this.binary(value, tag);
      case 'SS': {
        const list = this.array(value, tag);
        const result = new Set<string>();
        const depth = this.enter();
        for (let i = 0; i < list.length; i++) {
          this.segments[depth] = i;
          const element = list[i];
          if (typeof element !== 'string') throw this.wrongValue(tag, 'a string', element);
          result.add(element);
        }
        this.segments.pop();
        return result;
      }
      case 'NS': {
        const list = this.array(value, tag);
        const result = new Set<number | bigint | NumberValue>();
        const depth = this.enter();
        for (let i = 0; i < list.length; i++) {
          this.segments[depth] = i;
          result.add(this.number(list[i]));
        }
        this.segments.pop();
        return result;
      }
      case 'BS': {
        const list = this.array(value, tag);
        const result = new Set<Uint8Array>();
        const depth = this.enter();
        for (let i = 0; i < list.length; i++) {
          this.segments[depth] = i;
          result.add(this.binary(list[i], tag));
        }
        this.segments.pop();
        return result;
      }
      default:
        throw this.fail(
          ErrorCode.UnknownAttributeType,
          tag === undefined
            ? 'has no type tag'
            : `has unknown type tag ${JSON.stringify(tag.slice(0, 40))} (expected S, N, B, SS, NS, BS, M, L, NULL or BOOL)`,
        );
    }
  }

  /** Bounds the recursion: a forged record must fail permanently, not overflow the stack (a retryable crash). */
  checkDepth(): void {
    if (this.segments.length >= MAX_NESTING_DEPTH) {
      throw this.fail(ErrorCode.InvalidAttributeValue, `nests deeper than DynamoDB's limit of ${MAX_NESTING_DEPTH} levels`);
    }
  }

  /** Checks every attribute as `map` converts it, without building the item. */
  check(attributes: Readonly<Record<string, unknown>>): void {
    const segments = this.segments;
    for (const name in attributes) {
      segments.push(name);
      this.value(attributes[name]);
      segments.pop();
    }
  }

  map(attributes: Readonly<Record<string, unknown>>): Item {
    const item: Item = {};
    const segments = this.segments;
    for (const name in attributes) {
      segments.push(name);
      const value = this.value(attributes[name]);
      segments.pop();
      // An attribute may be called "__proto__"; plain assignment would set the prototype instead.
      if (name === '__proto__') Object.defineProperty(item, name, { value, enumerable: true, writable: true, configurable: true });
      else item[name] = value;
    }
    return item;
  }
}

// One walker for every item: a walk calls no user code, so walks never overlap, and a record's keys and image
// need no walker objects of their own.
const WALKER = new Walker();

/**
 * Converts a stream record's item (`Keys`, `NewImage`, `OldImage`) to plain values. Errors name the record and
 * the attribute path, which starts with `path` (e.g. `newImage.scores[2]`): `UNKNOWN_ATTRIBUTE_TYPE`,
 * `INVALID_NUMBER`, `INVALID_BASE64`, `INVALID_ATTRIBUTE_VALUE` (nested too deep), or `MISSING_FIELD` for a value
 * of the wrong JSON type.
 */
export function unmarshallItem(item: unknown, path: string, recordId: string): Item {
  const walker = WALKER.reset(recordId, path);
  if (!isObject(item)) throw walker.fail(ErrorCode.MissingField, 'is not a map of attribute names to AttributeValues');
  return walker.map(item);
}

/** Throws what `unmarshallItem` would throw for `item`, without building the converted item. */
export function checkItem(item: unknown, path: string, recordId: string): void {
  const walker = WALKER.reset(recordId, path);
  if (!isObject(item)) throw walker.fail(ErrorCode.MissingField, 'is not a map of attribute names to AttributeValues');
  walker.check(item);
}
