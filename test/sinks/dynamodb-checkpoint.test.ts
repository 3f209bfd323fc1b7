/** The checkpoint's stored positions: their text sorts as the positions do, and reads back as written. */
import fc from 'fast-check';
import { checkpointGroupOf, comparePositions, decodePosition, encodePosition, type Position } from '../../src/sinks/dynamodb-checkpoint';

const sequence = fc.oneof(
  fc.constant('0'),
  fc.stringMatching(/^[1-9]\d{0,128}$/),
  // Kinesis sequence numbers are 56 digits; neighbours differ in the last ones.
  fc.bigInt({ min: 10n ** 55n, max: 10n ** 56n - 1n }).map(String),
);
/** A record not aggregated (-1), or a KPL user record. */
const positionOf = (sub: fc.Arbitrary<number>): fc.Arbitrary<Position> => fc.record({ sequence, sub });
const plain = positionOf(fc.constant(-1));
const userRecord = positionOf(fc.nat({ max: 2 ** 31 }));

describe('checkpoint positions', () => {
  it('sort as text the way they sort as positions, and read back as written', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(plain, plain), fc.tuple(userRecord, userRecord)), ([a, b]) => {
        const [ta, tb] = [encodePosition(a), encodePosition(b)];
        expect(Math.sign(ta < tb ? -1 : ta > tb ? 1 : 0)).toBe(Math.sign(comparePositions(a, b)));
        expect(decodePosition(ta)).toEqual(a);
      }),
      { numRuns: 2000 },
    );
  });

  it('keep sixteen positions of 56-digit sequence numbers under 1 KB', () => {
    const longest = encodePosition({ sequence: '9'.repeat(56), sub: 2 ** 31 });
    expect(16 * (`g15`.length + longest.length)).toBeLessThan(1024 - 200);
  });

  it('reads nothing it did not write', () => {
    for (const text of ['', 'zz', '02a', '01a.', '01a.2x', '01a.21', '01A', '01a.0']) expect([text, decodePosition(text)]).toEqual([text, undefined]);
  });

  it('puts a target in the same group on every delivery, and spreads targets over the sixteen groups', () => {
    expect(checkpointGroupOf('["Totals",[["Username","player-1"]]]')).toBe(checkpointGroupOf('["Totals",[["Username","player-1"]]]'));
    const groups = new Set(Array.from({ length: 200 }, (_, i) => checkpointGroupOf(JSON.stringify(['Totals', [['Username', `player-${i}`]]]))));
    expect(groups.size).toBe(16);
  });
});
