/**
 * shardflow's public API, listed by name. Anything not exported here is internal and may change.
 */

// The event model
export {
  RecordKind,
  RecordSource,
  StreamViewType,
  compareSequenceNumbers,
  paddedSequenceNumber,
  provenanceOf,
} from './runtime/model';
export type {
  BatchItemFailure,
  RecordBase,
  DynamoDBStreamRecord,
  Item,
  KinesisStreamRecord,
  PartialBatchResponse,
  Payload,
  Provenance,
  StreamRecord,
} from './runtime/model';

// Errors
export {
  ErrorCode,
  RetryableError,
  SchemaValidationError,
  ShardflowError,
  ValidationError,
  decodeError,
  errorMessage,
  isRetryable,
  isShardflowError,
} from './runtime/errors';
export type { SchemaIssue, ShardflowErrorOptions } from './runtime/errors';

// Contracts between the runtime, processors and sinks
export { LogLevel } from './runtime/types';
export type {
  AddEffect,
  Amount,
  AnyProcessor,
  Effect,
  EffectBase,
  Fault,
  FaultSink,
  LogEffect,
  ProcessContext,
  Processor,
  RecordEffects,
  RecordFailure,
  SchemaProcessor,
  SchemaSelector,
  Selector,
  Sink,
  SinkCounts,
  SinkResult,
  SinkSession,
} from './runtime/types';

// Schemas: what a processor reads, validated and typed (any Standard Schema: zod, valibot, arktype, ...)
export { defineProcessor } from './runtime/define-processor';
export { runProcessor } from './runtime/run-processor';
export type {
  CompiledRecordSchema,
  DynamoDBRecordSchema,
  KinesisRecordSchema,
  RecordSchema,
  RecordSchemaPart,
  RecordValue,
  SchemaRecord,
  SchemaRecordKind,
} from './runtime/record-schema';
export type {
  InferSchemaOutput,
  StandardSchemaFailure,
  StandardSchemaIssue,
  StandardSchemaOptions,
  StandardSchemaPathSegment,
  StandardSchemaProps,
  StandardSchemaResult,
  StandardSchemaSuccess,
  StandardSchemaTypes,
  StandardSchemaV1,
} from './runtime/standard-schema';

// Normalization (raw Lambda record -> StreamRecord)
export { normalizeRecord } from './runtime/normalize';
export type { NormalizeResult } from './runtime/normalize';

// The batch loop
export { definePipeline } from './runtime/pipeline';
export type { Pipeline, PipelineConfig } from './runtime/pipeline';
export { NORMALIZE_STAGE, PermanentErrorAction } from './runtime/pipeline-options';
export type { PermanentErrorPolicy, PermanentFailure, PipelineOptions } from './runtime/pipeline-options';
export type { BatchOutcome, BatchStats } from './runtime/batch-outcome';
export { compileRouter } from './runtime/router';
export type { Route, Router } from './runtime/router';

// Lambda handlers, logging and metrics
export { createHandler } from './runtime/handler';
export type { DynamoDBBatchHandler, HandlerOptions, KinesisBatchHandler } from './runtime/handler';
export { DEFAULT_SERVICE_NAME, JsonLogger, createLogger, defaultLogger } from './runtime/logging';
export type { HandlerLogger, LoggerOptions, PipelineLogger } from './runtime/logging';
export { METRICS_NAMESPACE, MetricName, addBatchMetrics, addSinkMetrics, lastArrivalTime, publishBatchStats } from './runtime/metrics';

// Powertools interop (for users migrating from @aws-lambda-powertools/batch)
export { asPowertoolsRecordHandler } from './runtime/powertools';
export type { PowertoolsRecordHandler, PowertoolsRecordHandlerOptions } from './runtime/powertools';

export type { StreamEvent, StreamHandler } from './runtime/types';

// Apps: what the CLI, the local runner and the deploy code read, and their Lambda entry points
export { DEFAULT_FAULT_TABLE, DEFAULT_MARKER_TABLE, checkAppDefinition, defineApp } from './app/definition';
export { StartingPosition } from './app/types';
export type { AppDefinition, AppEnvironment, AppSpec, EventSourceSettings, FilterPattern, HttpHandler, SinkContext, TableDefinition } from './app/types';
export { LambdaEnvironment, lambdaHandler, lambdaHttpHandler } from './app/lambda';

// Processors (pure: records in, effects out)
export { PayloadEncoding, TtlDeletePolicy, createRecordLogger, createScoreAggregator, createTagTotal } from './processors';
export type { RecordLoggerOptions, ScoreAggregatorOptions, TagTotalOptions } from './processors';

// Sinks (idempotent: a record's effects apply once, whatever the delivery)
export { DynamoDBSink, ExactlyOnceMode, MARKER_TTL_ATTRIBUTE, markerTableDefinition } from './sinks/dynamodb';
export type { DynamoDBSinkMetrics, DynamoDBSinkOptions } from './sinks/dynamodb';
export { DynamoDBFaultSink, faultTableDefinition } from './sinks/dynamodb-faults';
export type { DynamoDBFaultSinkOptions } from './sinks/dynamodb-faults';
export { FileFaultSink } from './sinks/file-faults';
export type { FileFaultSinkOptions } from './sinks/file-faults';
export type { DeleteFaultOptions, FaultStore, ListFaultsOptions, StoredFault } from './sinks/fault-store';
export { redriveEvents, redriveFaults } from './sinks/redrive';
export type { RedriveEvent, RedriveReport, Replay } from './sinks/redrive';
export { LogSink } from './sinks/log';
export type { LogSinkLogger, LogSinkOptions } from './sinks/log';
export { awsErrorName, isRetryableAwsError } from './sinks/retry';
export type { BackoffOptions } from './sinks/retry';
export { SinkMetricName } from './runtime/metrics';
