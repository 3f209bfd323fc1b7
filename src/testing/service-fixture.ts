/**
 * What both fixtures are made of: a local service (DynamoDB Local, kinesalite) and a client of it, started
 * together before a test file's tests, prepared (tables or streams created), and stopped together after them.
 */
import type { LocalService } from '../local/services';
import { checkInteger } from '../runtime/options';
import { oncePerFile, type TestHooks } from './test-hooks';

/** A local service for the file's tests. Read it inside tests (or hooks registered after the fixture's). */
export interface ServiceFixture<C> {
  /** Where the service listens: `http://127.0.0.1:<port>`. */
  endpoint(): string;
  /** A client of the service, shared by the file and destroyed after its tests. */
  client(): C;
}

/** When a fixture starts and how long it may take. */
export interface FixtureOptions {
  /**
   * Milliseconds allowed for starting the service and creating what the tests need.
   * @default 120000
   */
  readonly startTimeoutMs?: number;
  /**
   * The hooks to start and stop with, for runners without globals.
   * @default the runner's `beforeAll` and `afterAll` globals (jest, or vitest with `globals: true`)
   * @example
   * import { afterAll, beforeAll } from 'vitest';
   * const ddb = useDynamoDBLocal({ app, hooks: { beforeAll, afterAll } });
   */
  readonly hooks?: TestHooks;
}

export const FIXTURE_DEFAULTS = {
  startTimeoutMs: 120_000,
  hooks: undefined as TestHooks | undefined,
} satisfies FixtureOptions;

/** How to start the service, connect to it and prepare it for the tests. */
export interface ServiceSetup<C> {
  start(): Promise<LocalService>;
  connect(endpoint: string): C;
  /** Creates what the tests need; the service is stopped again when it fails. */
  prepare(client: C): Promise<unknown>;
}

interface Started<C> {
  readonly service: LocalService;
  readonly client: C;
}

async function stop<C extends { destroy(): void }>({ service, client }: Started<C>): Promise<void> {
  client.destroy();
  await service.stop();
}

/** Registers the service's start and stop on the hooks, and returns its accessors. */
export function useServiceFixture<C extends { destroy(): void }>(fixture: string, timing: typeof FIXTURE_DEFAULTS, setup: ServiceSetup<C>): ServiceFixture<C> {
  checkInteger(fixture, 'startTimeoutMs', timing.startTimeoutMs, 1);
  const started = oncePerFile<Started<C>>({
    fixture,
    hooks: timing.hooks,
    startTimeoutMs: timing.startTimeoutMs,
    async start() {
      const service = await setup.start();
      const ready = { service, client: setup.connect(service.endpoint) };
      try {
        await setup.prepare(ready.client);
        return ready;
      } catch (error) {
        await stop(ready);
        throw error;
      }
    },
    stop,
  });
  return {
    endpoint: () => started().service.endpoint,
    client: () => started().client,
  };
}
