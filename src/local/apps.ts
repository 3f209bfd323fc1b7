/**
 * Apps as the local runner sees them: the streams each one consumes, the tables and streams to create, and a
 * poller mapping per app with its own event source settings.
 */
import type { AppDefinition, AppEnvironment, StartingPosition, TableDefinition } from '../app/types';
import { ShardflowError, ErrorCode } from '../runtime/errors';
import { ensureStreams, ensureTables, type LocalEnvironment } from './environment';
import { appRecordFilter } from './event-filter';
import type { EventSourceMappingOptions } from './event-source';
import type { PollerMapping, PollerSource } from './poller';

/** What an app consumes: the streams of its tables that have one enabled, and its Kinesis streams. */
function appSources(app: AppDefinition): PollerSource[] {
  return [
    ...app.sources.tables.map((table) => ({ table: table.TableName ?? '' })),
    ...app.sources.kinesisStreams.map((kinesisStream) => ({ kinesisStream })),
  ];
}

/** Creates the tables and Kinesis streams the apps need (each once, however many apps share it). */
export async function prepareApps(environment: LocalEnvironment, selected: readonly AppDefinition[]): Promise<{ tables: string[]; streams: string[] }> {
  const tables = new Map<string, TableDefinition>();
  for (const app of selected) for (const table of app.tables) tables.set(table.TableName ?? '', table);
  const streamNames = [...new Set(selected.flatMap((app) => app.sources.kinesisStreams))];
  const createdTables = await ensureTables(environment.dynamodb, [...tables.values()]);
  let createdStreams: string[] = [];
  if (streamNames.length > 0) {
    if (environment.kinesis === undefined) {
      throw new ShardflowError(ErrorCode.InvalidOptions, `Kinesis streams ${streamNames.join(', ')} are needed, but no Kinesis client was opened.`);
    }
    createdStreams = await ensureStreams(environment.kinesis, streamNames);
  }
  return { tables: createdTables, streams: createdStreams };
}

/** Settings that override the apps' own event source settings (command-line flags). */
export interface MappingOverrides {
  readonly batchSize?: number;
  readonly batchingWindowMs?: number;
  readonly startingPosition?: StartingPosition;
  readonly invocation?: EventSourceMappingOptions;
}

/** One poller mapping per app, named after it, with the app's batch size, starting position, retries and bisect. */
export function appMappings(selected: readonly AppDefinition[], environment: AppEnvironment, overrides: MappingOverrides = {}): PollerMapping[] {
  return selected.map((app) => ({
    name: app.name,
    handler: app.createHandler(environment),
    sources: appSources(app),
    batchSize: overrides.batchSize ?? app.eventSource.batchSize,
    batchingWindowMs: overrides.batchingWindowMs ?? app.eventSource.maxBatchingWindowSeconds * 1000,
    startingPosition: overrides.startingPosition ?? app.eventSource.startingPosition,
    invocation: { ...appInvocation(app), ...overrides.invocation },
  }));
}

/** The event source mapping emulation's settings that come from the app: retries, bisection, event filtering. */
export function appInvocation(app: AppDefinition): EventSourceMappingOptions {
  const filter = appRecordFilter(app);
  return {
    functionName: `shardflow-${app.name}`,
    maxRetries: app.eventSource.retryAttempts,
    bisectBatchOnFunctionError: app.eventSource.bisectBatchOnError,
    ...(filter !== undefined && { filter }),
  };
}
