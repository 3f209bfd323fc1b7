/**
 * Exact decimals for the numbers that are summed: `AddEffect` amounts, the deltas processors compute and the sums
 * sinks pre-aggregate. DynamoDB adds numbers in decimal, so 0.1 + 0.2 is 0.3 there; summing the same values as
 * JavaScript doubles first would store 0.30000000000000004 and make the final state depend on how records were
 * grouped into transactions, and a delta such as -45 − 9007199254740991 is not a double at all.
 */
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import type { Amount } from './types';

/** `coefficient * 10^-scale`. */
export interface Decimal {
  readonly coefficient: bigint;
  readonly scale: number;
}

export const ZERO: Decimal = { coefficient: 0n, scale: 0 };

// sign, integer digits, fraction digits, exponent
const DECIMAL_SYNTAX = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/** A decimal's text (`-1.5e3`, `.5`), or undefined when it is not one. */
function parseDecimal(text: string): Decimal | undefined {
  const match = DECIMAL_SYNTAX.exec(text);
  if (match === null) return undefined;
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  if (whole.length + fraction.length === 0) return undefined;
  let coefficient = BigInt(`${whole}${fraction}`);
  let scale = fraction.length - Number(exponent);
  if (scale < 0) {
    coefficient *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { coefficient: sign === '-' ? -coefficient : coefficient, scale };
}

/**
 * The exact decimal of an amount, or undefined when it is not an exact number: a finite number stands for its
 * shortest round-trip representation (what `String(n)` prints), a bigint and a `NumberValue` for themselves.
 */
export function decimalOf(value: unknown): Decimal | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? parseDecimal(String(value)) : undefined;
  if (typeof value === 'bigint') return { coefficient: value, scale: 0 };
  if (value instanceof NumberValue) return parseDecimal(value.toString());
  return undefined;
}

export function addDecimals(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return {
    coefficient: a.coefficient * 10n ** BigInt(scale - a.scale) + b.coefficient * 10n ** BigInt(scale - b.scale),
    scale,
  };
}

export function negateDecimal(value: Decimal): Decimal {
  return { coefficient: -value.coefficient, scale: value.scale };
}

/** Whether the decimal is a whole number. */
export function isWholeDecimal(value: Decimal): boolean {
  return value.coefficient % 10n ** BigInt(value.scale) === 0n;
}

/** Plain decimal notation without trailing zeros, as DynamoDB's N type accepts it. */
export function decimalToString(value: Decimal): string {
  const negative = value.coefficient < 0n;
  const digits = (negative ? -value.coefficient : value.coefficient).toString().padStart(value.scale + 1, '0');
  const whole = digits.slice(0, digits.length - value.scale);
  const fraction = digits.slice(digits.length - value.scale).replace(/0+$/, '');
  const text = fraction === '' ? whole : `${whole}.${fraction}`;
  return negative && text !== '0' ? `-${text}` : text;
}

/**
 * The decimal as an amount, in the runtime's number policy: a `number` when a double holds it exactly (safe
 * integers, decimals of at most 15 significant digits), else a `bigint` for a whole number, else a `NumberValue`.
 */
export function amountOf(value: Decimal): Amount {
  const text = decimalToString(value);
  const number = Number(text);
  if (isWholeDecimal(value)) return Number.isSafeInteger(number) ? number : BigInt(text);
  return text.replace(/^-?0*\.?0*/, '').replace('.', '').length <= 15 ? number : new NumberValue(text);
}
