import fc from 'fast-check';
import { decimalOf, decimalToString } from '../../src/runtime/decimal';
import { inexactJsonNumber } from '../../src/runtime/json-numbers';

/** The oracle: a number token is exact when its decimal and the decimal of the double it parses to are equal. */
function exact(token: string): boolean {
  const value = Number(token);
  if (!Number.isFinite(value)) return false;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token)!;
  const digits = BigInt(`${whole}${fraction}`);
  const scale = fraction.length - Number(exponent);
  const written = decimalToString(scale >= 0 ? { coefficient: sign === '-' ? -digits : digits, scale } : { coefficient: (sign === '-' ? -digits : digits) * 10n ** BigInt(-scale), scale: 0 });
  return written === decimalToString(decimalOf(value)!);
}

const tokenArb = fc
  .record({
    negative: fc.boolean(),
    whole: fc.stringMatching(/^(0|[1-9]\d{0,24})$/),
    fraction: fc.option(fc.stringMatching(/^\d{1,24}$/), { nil: undefined }),
    exponent: fc.option(fc.integer({ min: -330, max: 330 }), { nil: undefined }),
  })
  .map(({ negative, whole, fraction, exponent }) =>
    `${negative ? '-' : ''}${whole}${fraction === undefined ? '' : `.${fraction}`}${exponent === undefined ? '' : `e${exponent}`}`,
  );

describe('inexactJsonNumber', () => {
  it('finds exactly the numbers a double cannot hold, wherever they are in the JSON', () => {
    fc.assert(
      fc.property(tokenArb, fc.string(), (token, text) => {
        const json = JSON.stringify({ text, list: [true, null, { n: JSON.parse(token) === 0 ? 0 : 1 }], value: 'x' }).replace('"value":"x"', `"value":${token}`);
        const found = inexactJsonNumber(json);
        expect(found === undefined).toBe(exact(token));
        if (found !== undefined) expect(found).toEqual({ text: token, readsAs: Number(token) });
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every number JSON.stringify writes, and digits inside strings', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.double({ noNaN: true, noDefaultInfinity: true }), (value, double) => {
        expect(inexactJsonNumber(JSON.stringify([value, double, '2.9999999999999999', 'x\\"1e400']))).toBeUndefined();
      }),
    );
  });

  it('finds a long number wherever JSON puts one, and skips long digits that are inside strings', () => {
    const inexact = '2.9999999999999999';
    for (const json of [inexact, ` ${inexact} `, `[${inexact}]`, `[1,\n\t ${inexact}]`, `{"a":\r\n-${inexact}}`, `{"a":[{"b":${inexact}}]}`]) {
      expect([json, inexactJsonNumber(json)?.text.replace('-', '')]).toEqual([json, inexact]);
    }
    // Digits after a letter, a quote or a hyphen are inside a string: no scan needed, and none would find anything.
    expect(inexactJsonNumber('{"id":"s-29999999999999999","at":"1767225600123456789","ok":1}')).toBeUndefined();
    // A string that looks like a member (`:` before the digits) costs the scan, which skips strings.
    expect(inexactJsonNumber('{"note":"x:29999999999999999","n":1.5}')).toBeUndefined();
    expect(inexactJsonNumber('{"note":"x:29999999999999999","n":29999999999999999}')).toEqual({ text: '29999999999999999', readsAs: 30000000000000000 });
  });

  it('names the examples of the issue', () => {
    expect(inexactJsonNumber('{"Score":2.9999999999999999}')).toEqual({ text: '2.9999999999999999', readsAs: 3 });
    expect(inexactJsonNumber('[9007199254740991.4]')).toEqual({ text: '9007199254740991.4', readsAs: 9007199254740991 });
    expect(inexactJsonNumber('[1e400]')).toEqual({ text: '1e400', readsAs: Infinity });
    // No run of 16 digits, and no exponent of a double's range: found all the same.
    expect(inexactJsonNumber('[12345678.123456789]')).toEqual({ text: '12345678.123456789', readsAs: 12345678.123456789 });
    expect(inexactJsonNumber('[1E-400]')).toEqual({ text: '1E-400', readsAs: 0 });
    expect(inexactJsonNumber('[0.1, 1.0, 1E2, -0, 0.30000000000000004, 123450000000000000000e-5]')).toBeUndefined();
  });
});
