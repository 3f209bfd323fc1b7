/**
 * Exact decimal sums for pre-aggregation. DynamoDB adds numbers in decimal, so 0.1 + 0.2 is 0.3 there; summing
 * the same values as JavaScript doubles first would store 0.30000000000000004 and make the final state depend on
 * how records were grouped into transactions. Summing exactly keeps grouping invisible.
 */

/** `coefficient * 10^-scale`. */
export interface Decimal {
  readonly coefficient: bigint;
  readonly scale: number;
}

export const ZERO: Decimal = { coefficient: 0n, scale: 0 };

/** The exact decimal of a finite number's shortest round-trip representation (what `String(n)` prints). */
export function decimalOf(value: number): Decimal {
  if (!Number.isFinite(value)) throw new RangeError(`${String(value)} is not a finite number.`);
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (match === null) throw new RangeError(`Cannot read ${String(value)} as a decimal.`);
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let coefficient = BigInt(`${whole}${fraction}`);
  let scale = fraction.length - Number(exponent);
  if (scale < 0) {
    coefficient *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { coefficient: sign === '-' ? -coefficient : coefficient, scale };
}

export function addDecimals(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return {
    coefficient: a.coefficient * 10n ** BigInt(scale - a.scale) + b.coefficient * 10n ** BigInt(scale - b.scale),
    scale,
  };
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
