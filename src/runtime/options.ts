/**
 * Options objects: the one unknown-key check (a typo must not be silently ignored) and the one merge with
 * defaults, shared by the pipeline, the handler, processors, sinks and the local event source mapping.
 */
import { ErrorCode, ShardflowError } from './errors';

/** The message of the `INVALID_OPTIONS` error for an unknown key, given that key and the known ones. */
export type UnknownKeyMessage = (key: string, known: readonly string[]) => string;

/** `unknown option "k" (known: a, b)`, the wording most components use. */
export const unknownOption: UnknownKeyMessage = (key, known) => `unknown option "${key}" (known: ${known.join(', ')})`;

/** `<owner>: unknown option "k".`, the sinks' wording. */
export function unknownOptionOf(owner: string): UnknownKeyMessage {
  return (key) => `${owner}: unknown option "${key}".`;
}

/** Throws `INVALID_OPTIONS` with `message(key, known)` for the first key of `options` that is not in `known`. */
export function rejectUnknownKeys(options: object, known: Iterable<string>, message: UnknownKeyMessage = unknownOption): void {
  const knownKeys = [...known];
  for (const key of Object.keys(options)) {
    if (!knownKeys.includes(key)) throw new ShardflowError(ErrorCode.InvalidOptions, message(key, knownKeys));
  }
}

/**
 * `defaults` with every option of `options` that is not `undefined`: an option given as `undefined` keeps its
 * default, as its `@default` promises. Check the keys first (`rejectUnknownKeys`).
 */
export function withDefaults<D extends object>(defaults: D, options: { readonly [K in keyof D]?: D[K] }): D {
  const merged = { ...defaults };
  for (const key of Object.keys(options) as (keyof D)[]) {
    const value = options[key];
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}
