/**
 * The apps as the local runner sees them: the streams each one consumes, the tables and streams to create, and
 * a poller mapping per app with its seed event source settings.
 */
import { apps } from '../apps';
import { createTagsHttpHandlers } from '../apps/tags-http';
import { AppName, type AppDefinition, type AppEnvironment, type TableDefinition } from '../apps/types';
import { ShardflowError, ErrorCode } from '../runtime/errors';
import { ensureStreams, ensureTables, type LocalEnvironment } from './environment';
import type { EventSourceMappingOptions } from './event-source';
import type { ProxyHandler } from './http';
import type { PollerMapping, PollerSource, StartingPosition } from './poller';

export const APP_NAMES: readonly AppName[] = Object.values(AppName);

export function appByName(name: string): AppDefinition {
  const app = (apps as Readonly<Record<string, AppDefinition>>)[name];
  if (app === undefined) {
    throw new ShardflowError(ErrorCode.InvalidOptions, `Unknown app "${name}"; choose one of ${APP_NAMES.join(', ')}.`);
  }
  return app;
}

/** What an app consumes: the streams of its tables that have one enabled, and its Kinesis streams. */
function appSources(app: AppDefinition): PollerSource[] {
  return [
    ...app.tables.filter((table) => table.StreamSpecification?.StreamEnabled === true).map((table) => ({ table: table.TableName ?? '' })),
    ...app.kinesisStreams.map((kinesisStream) => ({ kinesisStream })),
  ];
}

/** Creates the tables and Kinesis streams the apps need (each once, however many apps share it). */
export async function prepareApps(environment: LocalEnvironment, selected: readonly AppDefinition[]): Promise<{ tables: string[]; streams: string[] }> {
  const tables = new Map<string, TableDefinition>();
  for (const app of selected) for (const table of app.tables) tables.set(table.TableName ?? '', table);
  const streamNames = [...new Set(selected.flatMap((app) => app.kinesisStreams))];
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

/** One poller mapping per app, named after it, with the seed's batch size and starting position. */
export function appMappings(selected: readonly AppDefinition[], environment: AppEnvironment, overrides: MappingOverrides = {}): PollerMapping[] {
  return selected.map((app) => ({
    name: app.name,
    handler: app.createHandler(environment),
    sources: appSources(app),
    batchSize: overrides.batchSize ?? app.eventSource.batchSize,
    batchingWindowMs: overrides.batchingWindowMs ?? 0,
    startingPosition: overrides.startingPosition ?? app.eventSource.startingPosition,
    invocation: { functionName: `shardflow-${app.name}`, ...overrides.invocation },
  }));
}

/** The page-view tags HTTP routes, `GET /tag/{tag}` and `GET /counts/{tag}`, behind one handler. */
export function tagsHttpHandler(environment: AppEnvironment): ProxyHandler {
  return createTagsHttpHandlers({ dynamodb: environment.dynamodb }).route;
}
