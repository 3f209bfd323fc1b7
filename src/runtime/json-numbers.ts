/**
 * JSON numbers a double cannot hold exactly. `JSON.parse` rounds every number to a double without a word:
 * `2.9999999999999999` reads as 3, `9007199254740993` as 9007199254740992, `1e400` as Infinity. The runtime's
 * number policy is that a number is exact or refused, so payload JSON is checked against its text: a number is
 * exact when the double's shortest representation (what `String` prints, and what sinks add) is the same decimal.
 */

// Any decimal of at most 15 significant digits survives a double, unless its exponent takes it beyond a double's
// range. So an inexact number has 16 significant digits (one side of its point has 8 in a row), at least 309 digits
// (8 in a row too), or an exponent of three digits. Text without either (nearly all small JSON) needs no scan: the
// test costs about a third of what JSON.parse does on small payloads.
const MAYBE_INEXACT = /\d{8}|\d[eE][+-]?\d{3}/g;
const QUOTE = 34;
const BACKSLASH = 92;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const LOWER_E = 101;
const COLON = 58;
const COMMA = 44;
const OPEN_BRACKET = 91;
const UPPER_E = 69;
/** Doubles hold every decimal of this many significant digits... */
const EXACT_DIGITS = 15;
/** ... whose first digit's power of ten is within this bound (normal doubles reach 1e-307 to 1.8e308). */
const EXACT_POWER = 300;
/** Exponents longer than this are left to the careful check (`1e0000000000000000002` is 100). */
const MAX_FAST_EXPONENT_DIGITS = 4;

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

function isDigit(code: number): boolean {
  return code >= DIGIT_0 && code <= DIGIT_9;
}

/** Characters a JSON number token is made of. */
function isNumberCharacter(code: number): boolean {
  return isDigit(code) || code === DOT || code === MINUS || code === PLUS || code === LOWER_E || code === UPPER_E;
}

function isJsonWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/**
 * Whether the digits at `at` can belong to a number token: a number starts the text or follows `:`, `,` or `[`
 * (and whitespace). Digits after anything else (a letter, a quote: `"s-1234567890"`, an id or epoch milliseconds in
 * quotes) are inside a string, and strings are what long runs of digits in JSON mostly are.
 */
function mayBeNumber(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && isNumberCharacter(text.charCodeAt(i))) i--;
  while (i >= 0 && isJsonWhitespace(text.charCodeAt(i))) i--;
  if (i < 0) return true;
  const before = text.charCodeAt(i);
  return before === COLON || before === COMMA || before === OPEN_BRACKET;
}

/** Whether `text` has 8 digits in a row or a three-digit exponent where a number token can be. */
function mayHoldInexactNumber(text: string): boolean {
  MAYBE_INEXACT.lastIndex = 0;
  for (let match = MAYBE_INEXACT.exec(text); match !== null; match = MAYBE_INEXACT.exec(text)) {
    if (mayBeNumber(text, match.index)) return true;
  }
  return false;
}

/** Index of the quote that ends the JSON string whose opening quote is at `start`. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  // A quote after an odd run of backslashes is escaped.
  while (end !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return text.length;
}

/**
 * The first number in valid JSON `text` that a double cannot hold exactly, with the value `JSON.parse` gives it;
 * undefined when every number is exact. A scan runs only when the first test finds digits where a number can be; it
 * is one pass: strings are skipped with `indexOf`, and a number is judged by
 * its significant digits and the power of its first one, as it is read; only a number of more than 15 significant
 * digits or at the edge of a double's range is compared with its double's decimal (`isExact`).
 */
export function inexactJsonNumber(text: string): { readonly text: string; readonly readsAs: number } | undefined {
  if (!mayHoldInexactNumber(text)) return undefined;
  const length = text.length;
  let i = 0;
  while (i < length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = stringEnd(text, i) + 1;
      continue;
    }
    if (code !== MINUS && !isDigit(code)) {
      i++;
      continue;
    }
    const start = i;
    if (code === MINUS) i++;
    // First and last non-zero digit, counted over the digits of the integer part and the fraction together.
    let digits = 0;
    let first = -1;
    let last = -1;
    let wholeDigits = -1;
    for (; i < length; i++) {
      const c = text.charCodeAt(i);
      if (isDigit(c)) {
        if (c !== DIGIT_0) {
          if (first === -1) first = digits;
          last = digits;
        }
        digits++;
      } else if (c === DOT && wholeDigits === -1) wholeDigits = digits;
      else break;
    }
    if (wholeDigits === -1) wholeDigits = digits;
    let exponent = 0;
    let exponentDigits = 0;
    const e = text.charCodeAt(i);
    if (e === LOWER_E || e === UPPER_E) {
      i++;
      const sign = text.charCodeAt(i);
      const negative = sign === MINUS;
      if (negative || sign === PLUS) i++;
      for (; i < length && isDigit(text.charCodeAt(i)); i++, exponentDigits++) exponent = exponent * 10 + text.charCodeAt(i) - DIGIT_0;
      if (negative) exponent = -exponent;
    }
    // Zero, however written, is exact.
    if (first === -1) continue;
    const power = wholeDigits - first - 1 + exponent;
    if (last - first + 1 <= EXACT_DIGITS && exponentDigits <= MAX_FAST_EXPONENT_DIGITS && power <= EXACT_POWER && power >= -EXACT_POWER) continue;
    const token = text.slice(start, i);
    if (!isExact(token)) return { text: token, readsAs: Number(token) };
  }
  return undefined;
}
