/**
 * Options objects, checked once at construction by every component (pipeline, handler, processors, sinks, the
 * local runner) with one meaning and one wording:
 * - an option given as `undefined` keeps its default, as its `@default` promises;
 * - an unknown key is an error (a typo must not be silently ignored);
 * - every message reads `<Component>: option "<key>" must be <what>, got <value>.`
 */
import { ErrorCode, ShardflowError } from './errors';

/** `INVALID_OPTIONS` with `<component>: <reason>.` */
export function optionsError(component: string, reason: string): ShardflowError {
  return new ShardflowError(ErrorCode.InvalidOptions, `${component}: ${reason}.`);
}

/** A value as an error message shows it: strings quoted, short. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** `<component>: option "<key>" must be <what>, got <value>.` */
export function invalidOption(component: string, key: string, what: string, value: unknown): ShardflowError {
  return optionsError(component, `option "${key}" must be ${what}, got ${shown(value)}`);
}

/** Throws unless `options` is an object whose keys are all in `known`. */
export function checkOptionKeys(component: string, options: unknown, known: readonly string[]): asserts options is object {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw optionsError(component, `options must be an object, got ${shown(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw optionsError(component, `unknown option "${key}" (known: ${known.join(', ')})`);
  }
}

/**
 * Checks the keys of `options` against `defaults` and `required`, then returns `defaults` overlaid with every
 * option that is not `undefined`. Values are the caller's to check (with the `check*` functions below).
 */
export function resolveOptions<D extends object, O extends object>(
  component: string,
  options: O | undefined,
  defaults: D,
  required: readonly Exclude<keyof O, keyof D>[] = [],
): D & Omit<O, keyof D> {
  if (options === undefined) {
    if (required.length > 0) throw optionsError(component, `option "${String(required[0])}" is required`);
    return { ...defaults } as D & Omit<O, keyof D>;
  }
  checkOptionKeys(component, options, [...required.map(String), ...Object.keys(defaults)]);
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value;
  for (const key of required) {
    if (merged[key as string] === undefined) throw optionsError(component, `option "${String(key)}" is required`);
  }
  return merged as D & Omit<O, keyof D>;
}

/** A non-empty string (a name of a table, stream, attribute or component). */
export function checkName(component: string, key: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw invalidOption(component, key, 'a non-empty string', value);
}

/** A list of non-empty strings. */
export function checkNames(component: string, key: string, value: unknown): asserts value is readonly string[] {
  if (!Array.isArray(value) || !value.every((name: unknown) => typeof name === 'string' && name.length > 0)) {
    throw invalidOption(component, key, 'a list of non-empty strings', value);
  }
}

/** One of an `as const` enum's values. */
export function checkOneOf<T extends string>(component: string, key: string, value: unknown, allowed: Readonly<Record<string, T>>): asserts value is T {
  const values: readonly unknown[] = Object.values(allowed);
  if (!values.includes(value)) throw invalidOption(component, key, `one of ${values.map((v) => `"${String(v)}"`).join(', ')}`, value);
}

/** An integer in [min, max]. */
export function checkInteger(component: string, key: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw invalidOption(component, key, range, value);
  }
}

/** A finite number >= `min`. */
export function checkNumber(component: string, key: string, value: unknown, min: number, unit = ''): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw invalidOption(component, key, `a finite number${unit === '' ? '' : ` of ${unit}`} >= ${min}`, value);
  }
}

/** A function. */
export function checkFunction(component: string, key: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw invalidOption(component, key, 'a function', value);
}
