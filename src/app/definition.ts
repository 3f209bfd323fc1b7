/**
 * `defineApp`: an app spec checked once, with its defaults filled in. An app is the unit a user writes, and the one
 * thing the local runner (replay, dev), the CLI and the deploy code read: data (the streams and tables it consumes,
 * the tables it writes, its event source settings) plus a factory of its Lambda handler.
 */
import { checkFunction, checkInteger, checkName, checkNames, checkOneOf, invalidOption, optionsError, resolveOptions, shown } from '../runtime/options';
import { resolvePipelineOptions } from '../runtime/pipeline-options';
import type { Effect, EffectBase } from '../runtime/types';
import { ExactlyOnceMode, MARKER_TTL_ATTRIBUTE, markerTableDefinition } from '../sinks/dynamodb';
import { faultTableDefinition } from '../sinks/dynamodb-faults';
import { buildAppHandler } from './app-handler';
import { StartingPosition, type AppDefinition, type AppSpec, type EventSourceSettings, type TableDefinition } from './types';

/** Lambda takes at most this many filter patterns per event source mapping. */
const MAX_FILTER_PATTERNS = 5;

export const DEFAULT_MARKER_TABLE = 'ShardflowMarkers';
export const DEFAULT_FAULT_TABLE = 'ShardflowFaults';

const EVENT_SOURCE_DEFAULTS: Required<EventSourceSettings> = {
  batchSize: 100,
  startingPosition: StartingPosition.TrimHorizon,
  maxBatchingWindowSeconds: 0,
  retryAttempts: 5,
  bisectBatchOnError: true,
  maxRecordAgeSeconds: 86_400,
  filters: {},
};

const SPEC_DEFAULTS = {
  outputs: [] as readonly TableDefinition[],
  tables: [] as readonly TableDefinition[],
  eventSource: undefined as EventSourceSettings | undefined,
  sinks: undefined as AppSpec['sinks'],
  exactlyOnce: ExactlyOnceMode.Markers as ExactlyOnceMode,
  markerTable: DEFAULT_MARKER_TABLE,
  faultTable: DEFAULT_FAULT_TABLE,
  pipeline: undefined as AppSpec['pipeline'],
  http: undefined as AppSpec['http'],
};

/** Names that work as a service name, a marker scope and part of a CloudFormation logical id. */
const APP_NAME = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;

function checkTables(component: string, key: string, tables: unknown): asserts tables is readonly TableDefinition[] {
  if (!Array.isArray(tables)) throw invalidOption(component, key, 'a list of table definitions', tables);
  tables.forEach((table: unknown, index) => {
    const name = typeof table === 'object' && table !== null ? (table as TableDefinition).TableName : undefined;
    if (typeof name !== 'string' || name.length === 0) {
      throw invalidOption(component, `${key}[${index}]`, 'a table definition with a TableName', table);
    }
    const keys = (table as TableDefinition).KeySchema;
    if (!Array.isArray(keys) || keys.length === 0) throw optionsError(component, `table ${name} in "${key}" has no KeySchema`);
  });
}

/**
 * Checks an app spec and fills in its defaults. Every problem is an `INVALID_OPTIONS` error naming the app and
 * the field, thrown here rather than at the first batch.
 * @example
 * export default defineApp({
 *   name: 'checkout',
 *   sources: { kinesisStreams: ['checkout-events'], tables: [cartsTable] },
 *   outputs: [customerTotalsTable],
 *   processors: [paidTotals, cartsPerDay],
 * });
 */
export function defineApp(spec: AppSpec<Effect>): AppDefinition;
/** An app whose processors produce effects of a type of its own, for `sinks` of its own: `defineApp<MyEffect>(...)`. */
export function defineApp<E extends EffectBase>(spec: AppSpec<E>): AppDefinition;
export function defineApp<E extends EffectBase>(spec: AppSpec<E>): AppDefinition {
  const named = typeof spec === 'object' && spec !== null && typeof spec.name === 'string' ? spec.name : undefined;
  const component = named === undefined ? 'defineApp' : `defineApp (app "${named}")`;
  const settings = resolveOptions(component, spec, SPEC_DEFAULTS, ['name', 'sources', 'processors']);
  if (!APP_NAME.test(settings.name)) {
    throw invalidOption(component, 'name', 'a letter followed by up to 63 letters, digits or hyphens', settings.name);
  }
  const sources = resolveOptions(`${component}, sources`, settings.sources, { tables: [] as readonly TableDefinition[], kinesisStreams: [] as readonly string[] });
  checkTables(component, 'sources.tables', sources.tables);
  checkNames(component, 'sources.kinesisStreams', sources.kinesisStreams);
  if (sources.tables.length + sources.kinesisStreams.length === 0) {
    throw optionsError(component, 'option "sources" names no table and no Kinesis stream, so the app would consume nothing');
  }
  for (const table of sources.tables) {
    if (table.StreamSpecification?.StreamEnabled !== true || table.StreamSpecification.StreamViewType === undefined) {
      throw optionsError(component, `source table ${table.TableName} needs a StreamSpecification with StreamEnabled and a StreamViewType`);
    }
  }
  checkTables(component, 'outputs', settings.outputs);
  checkTables(component, 'tables', settings.tables);
  if (!Array.isArray(settings.processors) || settings.processors.length === 0) {
    throw invalidOption(component, 'processors', 'a non-empty list of processors', settings.processors);
  }
  if (settings.sinks !== undefined) checkFunction(component, 'sinks', settings.sinks);
  if (settings.http !== undefined) checkFunction(component, 'http', settings.http);
  checkOneOf(component, 'exactlyOnce', settings.exactlyOnce, ExactlyOnceMode);
  checkName(component, 'markerTable', settings.markerTable);
  checkName(component, 'faultTable', settings.faultTable);
  const eventSource = resolveOptions(`${component}, eventSource`, settings.eventSource, EVENT_SOURCE_DEFAULTS);
  checkEventSource(`${component}, eventSource`, eventSource, [...sources.tables.map((table) => table.TableName as string), ...sources.kinesisStreams]);

  const markerTable = settings.outputs.length > 0 && settings.sinks === undefined ? settings.markerTable : undefined;
  const tables = uniqueTables(component, [
    ...sources.tables,
    ...settings.outputs,
    ...settings.tables,
    // Markers only need to outlive re-deliveries; TTL lets DynamoDB drop them afterwards.
    ...(markerTable === undefined ? [] : [{ ...markerTableDefinition(markerTable), timeToLiveAttribute: MARKER_TTL_ATTRIBUTE }]),
    faultTableDefinition(settings.faultTable),
  ]);
  const definition = {
    name: settings.name,
    sources: { tables: sources.tables, kinesisStreams: sources.kinesisStreams },
    outputs: settings.outputs,
    tables,
    eventSource,
    markerTable,
    exactlyOnce: settings.exactlyOnce,
    faultTable: settings.faultTable,
    http: settings.http,
    deadlineMarginMs: resolvePipelineOptions(settings.pipeline).deadlineMarginMs,
  };
  return { ...definition, createHandler: (environment) => buildAppHandler<E>(definition, spec, environment) };
}

function checkEventSource(component: string, settings: Required<EventSourceSettings>, sourceNames: readonly string[]): void {
  checkInteger(component, 'batchSize', settings.batchSize, 1, 10_000);
  checkOneOf(component, 'startingPosition', settings.startingPosition, StartingPosition);
  checkInteger(component, 'maxBatchingWindowSeconds', settings.maxBatchingWindowSeconds, 0, 300);
  checkInteger(component, 'retryAttempts', settings.retryAttempts, 0, 10_000);
  if (typeof settings.bisectBatchOnError !== 'boolean') throw invalidOption(component, 'bisectBatchOnError', 'true or false', settings.bisectBatchOnError);
  checkInteger(component, 'maxRecordAgeSeconds', settings.maxRecordAgeSeconds, 60, 604_800);
  checkFilters(component, settings.filters, sourceNames);
}

function checkFilters(component: string, filters: unknown, sourceNames: readonly string[]): void {
  if (filters === null || typeof filters !== 'object' || Array.isArray(filters)) {
    throw invalidOption(component, 'filters', 'an object of filter patterns by source name', filters);
  }
  for (const [source, patterns] of Object.entries(filters)) {
    if (!sourceNames.includes(source)) {
      throw optionsError(component, `option "filters" names ${shown(source)}, which is not one of the app's sources (${sourceNames.join(', ')})`);
    }
    const isPattern = (pattern: unknown) => pattern !== null && typeof pattern === 'object' && !Array.isArray(pattern) && Object.keys(pattern).length > 0;
    if (!Array.isArray(patterns) || patterns.length === 0 || patterns.length > MAX_FILTER_PATTERNS || !patterns.every(isPattern)) {
      throw invalidOption(component, `filters.${source}`, `a list of 1 to ${MAX_FILTER_PATTERNS} non-empty pattern objects`, patterns);
    }
  }
}

/** Tables by name, first definition kept; two different definitions of one name are an error. */
function uniqueTables(component: string, tables: readonly TableDefinition[]): TableDefinition[] {
  const byName = new Map<string, TableDefinition>();
  for (const table of tables) {
    const name = table.TableName as string;
    const known = byName.get(name);
    if (known === undefined) byName.set(name, table);
    else if (JSON.stringify(known.KeySchema) !== JSON.stringify(table.KeySchema)) {
      throw optionsError(component, `table ${name} is defined twice with different key schemas`);
    }
  }
  return [...byName.values()];
}

const DEFINITION_FIELDS: Readonly<Record<keyof AppDefinition, string>> = {
  name: 'string',
  sources: 'object',
  outputs: 'object',
  tables: 'object',
  eventSource: 'object',
  markerTable: 'string|undefined',
  // Apps defined by an earlier shardflow have none: they use markers.
  exactlyOnce: 'string|undefined',
  faultTable: 'string',
  http: 'function|undefined',
  deadlineMarginMs: 'number',
  createHandler: 'function',
};

/**
 * Checks that `value` (a module's export, say) is an app definition made by `defineApp`, with one error that names
 * `origin` and every field that is missing or of the wrong type.
 */
export function checkAppDefinition(value: unknown, origin: string): AppDefinition {
  if (typeof value !== 'object' || value === null) {
    throw optionsError(origin, `expected an app definition (made with defineApp from 'shardflow'), got ${shown(value)}`);
  }
  const wrong = Object.entries(DEFINITION_FIELDS)
    .filter(([field, types]) => !types.split('|').includes(typeof (value as Record<string, unknown>)[field]))
    .map(([field, types]) => `${field} (${types.replace('|', ' or ')})`);
  if (wrong.length > 0) {
    throw optionsError(
      origin,
      `not an app definition (make it with defineApp from 'shardflow'): missing or wrong ${wrong.join(', ')}`,
    );
  }
  return value as AppDefinition;
}
