/**
 * JSON numbers a double cannot hold exactly. `JSON.parse` rounds every number to a double without a word:
 * `2.9999999999999999` reads as 3, `9007199254740993` as 9007199254740992, `1e400` as Infinity. The runtime's
 * number policy is that a number is exact or refused, so payload JSON is checked against its text: a number is
 * exact when the double's shortest representation (what `String` prints, and what sinks add) is the same decimal.
 */

// Any decimal of at most 15 significant digits survives a double, unless its exponent takes it beyond a double's
// range. So an inexact number has 16 significant digits (one side of its point has 8 in a row), at least 309 digits,
// or an exponent of three digits. Text without either (nearly all JSON) needs no scan; this test is about a third
// of what JSON.parse costs on small payloads, a finer one (digits before an `e`) about two thirds.
const MAYBE_INEXACT = /\d{8}|[eE][+-]?\d{3}/;
const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const QUOTE = 34;
const BACKSLASH = 92;

/** Digits without leading or trailing zeros, and the power of ten of the first one; 0 has no digits. */
function canonical(text: string): string {
  const match = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (match === null) return text;
  const [, whole = '', fraction = '', exponent = '0'] = match;
  const digits = `${whole}${fraction}`;
  const first = digits.search(/[1-9]/);
  if (first === -1) return '0';
  const significant = digits.slice(first).replace(/0+$/, '');
  const power = BigInt(whole.length - first - 1) + BigInt(exponent);
  return `${text.startsWith('-') ? '-' : ''}${significant}e${power}`;
}

/** Whether the double `JSON.parse` makes of the number token `text` is the same decimal. */
function isExact(text: string): boolean {
  const value = Number(text);
  return Number.isFinite(value) && canonical(String(value)) === canonical(text);
}

/**
 * The first number in valid JSON `text` that a double cannot hold exactly, with the value `JSON.parse` gives it;
 * undefined when every number is exact.
 */
export function inexactJsonNumber(text: string): { readonly text: string; readonly readsAs: number } | undefined {
  if (!MAYBE_INEXACT.test(text)) return undefined;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      // Skip the string: the next quote that is not escaped ends it.
      for (i++; i < length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
      continue;
    }
    if (code !== 45 && (code < 48 || code > 57)) continue;
    NUMBER_TOKEN.lastIndex = i;
    const token = NUMBER_TOKEN.exec(text)![0];
    if (!isExact(token)) return { text: token, readsAs: Number(token) };
    i += token.length - 1;
  }
  return undefined;
}
