import fc from 'fast-check';
import { compareSequenceNumbers, paddedSequenceNumber } from '../../src/runtime/model';

const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 129 });
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('sequence numbers', () => {
  it('compare as integers, with or without leading zeros', () => {
    fc.assert(
      fc.property(digits, digits, (a, b) => {
        const expected = BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
        expect(sign(compareSequenceNumbers(a, b))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('pad to a width whose string order is numeric order', () => {
    fc.assert(
      fc.property(digits, digits, (a, b) => {
        const [pa, pb] = [paddedSequenceNumber(a), paddedSequenceNumber(b)];
        expect(pa).toHaveLength(130);
        expect(sign(pa < pb ? -1 : pa > pb ? 1 : 0)).toBe(sign(compareSequenceNumbers(a, b)));
      }),
    );
  });

  it('orders DynamoDB Local zero-padded numbers against short AWS sample numbers', () => {
    expect(compareSequenceNumbers('000000000000000000973', '111')).toBe(1);
    expect(compareSequenceNumbers('000000000000000000111', '111')).toBe(0);
    expect(compareSequenceNumbers('0', '000')).toBe(0);
  });
});
