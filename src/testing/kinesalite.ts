/**
 * kinesalite (an in-memory Kinesis API) for a test file: started once before its tests, with streams created, and
 * stopped after them. kinesalite is an optional peer dependency; starting it without it installed fails with a
 * `MISSING_DEPENDENCY` error naming the package.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { localClientConfig } from '../local/clients';
import { ensureStreams } from '../local/environment';
import { startKinesalite } from '../local/services';
import { checkNames, resolveOptions } from '../runtime/options';
import { FIXTURE_DEFAULTS, useServiceFixture, type FixtureOptions, type ServiceFixture } from './service-fixture';

export interface KinesaliteOptions extends FixtureOptions {
  /**
   * Streams to create (one shard each) before the first test.
   * @default []
   */
  readonly streams?: readonly string[];
}

/** What `useKinesalite` gives the file's tests: its endpoint and a client (HTTP/1.1, which kinesalite speaks). */
export type KinesaliteFixture = ServiceFixture<KinesisClient>;

const FIXTURE = 'useKinesalite';

const DEFAULTS = {
  ...FIXTURE_DEFAULTS,
  streams: [] as readonly string[],
} satisfies KinesaliteOptions;

/**
 * Starts kinesalite (in memory, on loopback) once for the test file, creates `streams`, and stops it after the
 * file's tests. Call it at the top of a test file or describe block.
 * @example
 * const kinesis = useKinesalite({ streams: ['checkout-events'] });
 *
 * it('reads what was put', async () => {
 *   await kinesis.client().send(new PutRecordCommand({ StreamName: 'checkout-events', PartitionKey: 'a', Data: bytes }));
 * });
 */
export function useKinesalite(options: KinesaliteOptions = {}): KinesaliteFixture {
  const settings = resolveOptions(FIXTURE, options, DEFAULTS);
  checkNames(FIXTURE, 'streams', settings.streams);
  return useServiceFixture(FIXTURE, settings, {
    start: () => startKinesalite(),
    connect: (endpoint) => new KinesisClient(localClientConfig(endpoint)),
    prepare: (client) => ensureStreams(client, settings.streams),
  });
}
