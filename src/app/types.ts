/**
 * The app contract: what a user writes (`AppSpec`) and what the local runner, the CLI and the deploy code read
 * (`AppDefinition`). `defineApp` (definition.ts) turns the one into the other.
 */
import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { PipelineOptions } from '../runtime/pipeline-options';
import type { ExactlyOnceMode } from '../sinks/dynamodb';
import type { AnyProcessor, Effect, EffectBase, Sink, StreamHandler } from '../runtime/types';

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
  /**
   * Event filtering by the mapping, per source (a table or Kinesis stream name from `sources`): up to 5 patterns,
   * OR'ed. Kinesis patterns match the record's JSON `data`, DynamoDB patterns the record (`eventName`,
   * `dynamodb`). Lambda drops records that match none before the app sees them; so do replay and dev.
   * @default {} (no filtering: every record reaches the app)
   * @example { Carts: [{ eventName: ['INSERT', 'MODIFY'] }], 'checkout-events': [{ data: { type: ['paid'] } }] }
   */
  readonly filters?: Readonly<Record<string, readonly FilterPattern[]>>;
}

/** One event filtering pattern, as Lambda's FilterCriteria takes it (JSON). */
export type FilterPattern = Readonly<Record<string, unknown>>;

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
  /** The app's processors (pure: records in, effects out), with or without a schema (`defineProcessor`). */
  readonly processors: readonly AnyProcessor<E>[];
  /**
   * The sinks, made for each handler. By default: the exactly-once `DynamoDBSink` for `outputs` (when there are
   * any) and a `LogSink` for log effects.
   */
  readonly sinks?: (environment: AppEnvironment, context: SinkContext) => readonly Sink<E>[];
  /**
   * How the default `DynamoDBSink` applies effects exactly once: `'markers'` writes a dedupe marker per record;
   * `'checkpoint'` advances a checkpoint per Kinesis shard in each transaction instead (a fraction of the write
   * capacity), but needs the Kinesis mappings' ParallelizationFactor to be 1, which `ShardflowApp` then sets and
   * refuses to change, and stops a shard's batch at its first failed record. DynamoDB Streams records use markers in
   * both modes. With `sinks` of your own, `'checkpoint'` says that they need ParallelizationFactor 1. See
   * docs/decisions/exactly-once.md.
   * @default 'markers'
   * @example { exactlyOnce: 'checkpoint' }
   */
  readonly exactlyOnce?: ExactlyOnceMode;
  /**
   * Table of the exactly-once sink's dedupe markers and checkpoints, shared by apps (each app's have their own scope).
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
  /** How the default sink applies effects exactly once; in checkpoint mode, Kinesis mappings need ParallelizationFactor 1. */
  readonly exactlyOnce: ExactlyOnceMode;
  readonly faultTable: string;
  /** The app's HTTP routes, if it has any. */
  readonly http: ((environment: AppEnvironment) => HttpHandler) | undefined;
  /** The pipeline's deadline margin: a function timeout must leave more than this for records to start. */
  readonly deadlineMarginMs: number;
  /** Builds the app's Lambda handler: its pipeline, sinks, logger and metrics. */
  createHandler(environment: AppEnvironment): StreamHandler;
}
