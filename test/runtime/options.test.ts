import { ErrorCode } from '../../src/runtime/errors';
import { rejectUnknownKeys, unknownOptionOf, withDefaults } from '../../src/runtime/options';

describe('options', () => {
  it('rejects the first unknown key with the caller\'s wording, naming the known ones', () => {
    expect(() => rejectUnknownKeys({ a: 1, typo: 2 }, ['a', 'b'])).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOptions, message: 'unknown option "typo" (known: a, b)' }),
    );
    expect(() => rejectUnknownKeys({ typo: 1 }, new Set(['a']), unknownOptionOf('Sink'))).toThrow('Sink: unknown option "typo".');
    expect(() => rejectUnknownKeys({ a: undefined }, ['a'])).not.toThrow();
  });

  it('keeps the default of an option given as undefined', () => {
    const defaults = { summary: true, margin: 1000, name: 'x' };
    expect(withDefaults(defaults, { summary: undefined, margin: 5 })).toEqual({ summary: true, margin: 5, name: 'x' });
    expect(withDefaults(defaults, { summary: false })).toEqual({ summary: false, margin: 1000, name: 'x' });
    expect(defaults).toEqual({ summary: true, margin: 1000, name: 'x' });
  });
});
