/**
 * An app: the unit a user writes, and the one thing the local runner (replay, dev), the CLI and the deploy code
 * read. It is data (the streams and tables it consumes, the tables it writes, its event source settings) plus a
 * factory of its Lambda handler. `defineApp` checks a spec once and fills in the defaults.
 */
import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { checkFunction, checkInteger, checkName, checkNames, checkOneOf, invalidOption, optionsError, resolveOptions, shown } from '../runtime/options';
import { resolvePipelineOptions, type PipelineOptions } from '../runtime/pipeline-options';
import type { Effect, EffectBase, Processor, Sink, StreamHandler } from '../runtime/types';
import { MARKER_TTL_ATTRIBUTE, markerTableDefinition } from '../sinks/dynamodb';
import { buildAppHandler } from './app-handler';
import { faultTableDefinition } from '../sinks/dynamodb-faults';

/** A table an app needs: CreateTable's input plus the TTL attribute, which CreateTable cannot set. */
export type TableDefinition = CreateTableCommandInput & {
  /** Attribute holding an epoch-seconds expiry; TTL is enabled on it after the table is created. */
  readonly timeToLiveAttribute?: string;
};

export const StartingPosition = { TrimHorizon: 'TRIM_HORIZON', Latest: 'LATEST' } as const;
export type StartingPosition = (typeof StartingPosition)[keyof typeof StartingPosition];

/** How the event source mapping feeds the app: read by the local runner and by the deploy code. */
export interface EventSourceSettings {
  /**
   * Records per invocation at most.
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * Where a new mapping starts reading a shard.
   * @default 'TRIM_HORIZON'
   */
  readonly startingPosition?: StartingPosition;
  /**
   * Seconds the mapping may wait to fill a batch.
   * @default 0
   */
  readonly maxBatchingWindowSeconds?: number;
  /**
   * Retries of a failed batch before its on-failure record is written. AWS's default (-1) retries until the record
   * expires, letting one poison record block its shard for a day or more.
   * @default 5
   */
  readonly retryAttempts?: number;
  /**
   * Split a batch that failed as a whole in two and retry the halves.
   * @default true
   */
  readonly bisectBatchOnError?: boolean;
  /**
   * Records older than this many seconds go to the on-failure destination instead of being retried.
   * @default 86400 (one day)
   */
  readonly maxRecordAgeSeconds?: number;
}

/** Where the handler's AWS calls and faults go: Lambda's defaults, or the local runner's. */
export interface AppEnvironment {
  readonly dynamodb: DynamoDBClient;
  /** Where captured faults go: the app's fault table (default), another table, or, for development, a JSONL file. */
  readonly faults?: { readonly file: string } | { readonly table: string };
  /** The exactly-once sink's marker table. @default the app's `markerTable` */
  readonly markerTable?: string;
}

/** An API Gateway proxy handler (REST API, or HTTP API with payload format 1.0). */
export type HttpHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** What the sinks factory gets besides the environment. */
export interface SinkContext {
  /** The app's logger: the one the pipeline and the handler use. */
  readonly logger: NonNullable<PipelineOptions['logger']>;
}

/** What an app is made of; `defineApp` turns it into an `AppDefinition`. */
export interface AppSpec<E extends EffectBase = Effect> {
  /** The app's name: its service name in logs and metrics, its marker scope, its resources' prefix. */
  readonly name: string;
  /** What the app consumes: tables with a stream, and Kinesis streams. At least one. */
  readonly sources: {
    /** Tables whose streams the app consumes; each needs a `StreamSpecification` (the local runner creates them). */
    readonly tables?: readonly TableDefinition[];
    readonly kinesisStreams?: readonly string[];
  };
  /**
   * Tables the app's processors add to (`AddEffect`s): the default exactly-once DynamoDB sink writes them. A source
   * table may be an output too.
   * @default []
   */
  readonly outputs?: readonly TableDefinition[];
  /**
   * Any other table the app or its custom sinks need, created by the local runner when missing.
   * @default []
   */
  readonly tables?: readonly TableDefinition[];
  /** Event source mapping settings (batch size, starting position, retries...). */
  readonly eventSource?: EventSourceSettings;
  /** The app's processors (pure: records in, effects out). */
  readonly processors: readonly Processor<E>[];
  /**
   * The sinks, made for each handler. By default: the exactly-once `DynamoDBSink` for `outputs` (when there are
   * any) and a `LogSink` for log effects.
   */
  readonly sinks?: (environment: AppEnvironment, context: SinkContext) => readonly Sink<E>[];
  /**
   * Table of the exactly-once sink's dedupe markers, shared by apps (each app's markers have its own scope).
   * On Lambda, the `SHARDFLOW_MARKER_TABLE` environment variable overrides it.
   * @default 'ShardflowMarkers'
   */
  readonly markerTable?: string;
  /**
   * Table of captured faults. On Lambda, `SHARDFLOW_FAULT_TABLE` overrides it.
   * @default 'ShardflowFaults'
   */
  readonly faultTable?: string;
  /** Pipeline options (deadline margin, permanent error policy); the logger is the app's own. */
  readonly pipeline?: Omit<PipelineOptions, 'logger'>;
  /** HTTP routes of the app, served by `shardflow dev` and deployable behind API Gateway. */
  readonly http?: (environment: AppEnvironment) => HttpHandler;
}

/** An app as the local runner, the CLI and the deploy code read it. */
export interface AppDefinition {
  readonly name: string;
  readonly sources: { readonly tables: readonly TableDefinition[]; readonly kinesisStreams: readonly string[] };
  readonly outputs: readonly TableDefinition[];
  /** Every table the app needs, each once: sources, outputs, other tables, the marker table (with outputs) and the fault table. */
  readonly tables: readonly TableDefinition[];
  readonly eventSource: Required<EventSourceSettings>;
  /** The marker table, when the default sinks write outputs. */
  readonly markerTable: string | undefined;
  readonly faultTable: string;
  /** The app's HTTP routes, if it has any. */
  readonly http: ((environment: AppEnvironment) => HttpHandler) | undefined;
  /** The pipeline's deadline margin: a function timeout must leave more than this for records to start. */
  readonly deadlineMarginMs: number;
  /** Builds the app's Lambda handler: its pipeline, sinks, logger and metrics. */
  createHandler(environment: AppEnvironment): StreamHandler;
}

export const DEFAULT_MARKER_TABLE = 'ShardflowMarkers';
export const DEFAULT_FAULT_TABLE = 'ShardflowFaults';

const EVENT_SOURCE_DEFAULTS: Required<EventSourceSettings> = {
  batchSize: 100,
  startingPosition: StartingPosition.TrimHorizon,
  maxBatchingWindowSeconds: 0,
  retryAttempts: 5,
  bisectBatchOnError: true,
  maxRecordAgeSeconds: 86_400,
};

const SPEC_DEFAULTS = {
  outputs: [] as readonly TableDefinition[],
  tables: [] as readonly TableDefinition[],
  eventSource: undefined as EventSourceSettings | undefined,
  sinks: undefined as AppSpec['sinks'],
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
export function defineApp<E extends EffectBase = Effect>(spec: AppSpec<E>): AppDefinition {
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
  checkName(component, 'markerTable', settings.markerTable);
  checkName(component, 'faultTable', settings.faultTable);
  const eventSource = resolveOptions(`${component}, eventSource`, settings.eventSource, EVENT_SOURCE_DEFAULTS);
  checkEventSource(`${component}, eventSource`, eventSource);

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
    faultTable: settings.faultTable,
    http: settings.http,
    deadlineMarginMs: resolvePipelineOptions(settings.pipeline).deadlineMarginMs,
  };
  return { ...definition, createHandler: (environment) => buildAppHandler<E>(definition, spec, environment) };
}

function checkEventSource(component: string, settings: Required<EventSourceSettings>): void {
  checkInteger(component, 'batchSize', settings.batchSize, 1, 10_000);
  checkOneOf(component, 'startingPosition', settings.startingPosition, StartingPosition);
  checkInteger(component, 'maxBatchingWindowSeconds', settings.maxBatchingWindowSeconds, 0, 300);
  checkInteger(component, 'retryAttempts', settings.retryAttempts, 0, 10_000);
  if (typeof settings.bisectBatchOnError !== 'boolean') throw invalidOption(component, 'bisectBatchOnError', 'true or false', settings.bisectBatchOnError);
  checkInteger(component, 'maxRecordAgeSeconds', settings.maxRecordAgeSeconds, 60, 604_800);
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
