/**
 * A fixture's life, tied to the test file: started in `beforeAll`, stopped in `afterAll`. jest and vitest (with
 * `globals: true`) define both hooks as globals; they are declared here, minimally, so shardflow/testing's types
 * need neither runner's types.
 */
import { optionsError } from '../runtime/options';

/** `beforeAll` or `afterAll`: runs `fn` once for the file (or the describe block it is called in). */
export type LifecycleHook = (fn: () => Promise<void>, timeoutMs?: number) => unknown;

/** The hooks a fixture starts and stops with: jest's or vitest's `beforeAll` and `afterAll`. */
export interface TestHooks {
  /** Starts the fixture before the first test. */
  readonly beforeAll: LifecycleHook;
  /** Stops it after the last. */
  readonly afterAll: LifecycleHook;
}

// A service gets 5 s to exit before it is killed (src/local/services.ts); jest's default hook timeout is 5 s too.
const STOP_TIMEOUT_MS = 30_000;

function globalHooks(fixture: string): TestHooks {
  const { beforeAll, afterAll } = globalThis as { beforeAll?: unknown; afterAll?: unknown };
  if (typeof beforeAll !== 'function' || typeof afterAll !== 'function') {
    throw optionsError(
      fixture,
      'there are no beforeAll and afterAll globals to start and stop it with. Call it at the top of a jest test file ' +
        `(or a vitest one with "globals: true"), or pass option "hooks" ({ beforeAll, afterAll } imported from 'vitest')`,
    );
  }
  return { beforeAll: beforeAll as LifecycleHook, afterAll: afterAll as LifecycleHook };
}

/** How a fixture starts and stops. */
export interface FixtureLifecycle<T> {
  /** The fixture's name in errors. */
  readonly fixture: string;
  /** @default the runner's `beforeAll` and `afterAll` globals */
  readonly hooks: TestHooks | undefined;
  readonly startTimeoutMs: number;
  /** Starts the fixture; cleans up after itself when it fails. */
  start(): Promise<T>;
  stop(started: T): Promise<void>;
}

/**
 * Registers the fixture's start and stop on the hooks, and returns a reader of what `start` made. Reading it
 * before `beforeAll` ran (outside a test) throws an error that says so.
 */
export function oncePerFile<T>(lifecycle: FixtureLifecycle<T>): () => T {
  const hooks = lifecycle.hooks ?? globalHooks(lifecycle.fixture);
  let started: T | undefined;
  hooks.beforeAll(async () => {
    started = await lifecycle.start();
  }, lifecycle.startTimeoutMs);
  hooks.afterAll(async () => {
    if (started === undefined) return;
    const stopping = started;
    started = undefined;
    await lifecycle.stop(stopping);
  }, STOP_TIMEOUT_MS);
  return () => {
    if (started === undefined) {
      throw new Error(`${lifecycle.fixture}: it has not started or has stopped; read it inside tests, or in hooks registered after it.`);
    }
    return started;
  };
}
