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
  ShardflowError,
  ValidationError,
  decodeError,
  errorMessage,
  isRetryable,
  isShardflowError,
} from './runtime/errors';
export type { ShardflowErrorOptions } from './runtime/errors';

// Contracts between the runtime, processors and sinks
export { LogLevel } from './runtime/types';
export type {
  AddEffect,
  Effect,
  EffectBase,
  Fault,
  FaultSink,
  LogEffect,
  ProcessContext,
  Processor,
  RecordEffects,
  RecordFailure,
  Selector,
  Sink,
  SinkResult,
  SinkSession,
} from './runtime/types';

// Normalization (raw Lambda record -> StreamRecord)
export { normalizeRecord } from './runtime/normalize';
export type { NormalizeResult } from './runtime/normalize';

// The batch loop
export { NORMALIZE_STAGE, PermanentErrorAction, definePipeline } from './runtime/pipeline';
export type {
  BatchOutcome,
  BatchStats,
  PermanentErrorPolicy,
  PermanentFailure,
  Pipeline,
  PipelineConfig,
  PipelineLogger,
  PipelineOptions,
} from './runtime/pipeline';
export { compileRouter } from './runtime/router';
export type { Route, Router } from './runtime/router';

// Lambda handlers, logging and metrics
export { createHandler } from './runtime/handler';
export type { DynamoDBBatchHandler, HandlerOptions, KinesisBatchHandler } from './runtime/handler';
export { DEFAULT_SERVICE_NAME, createLogger, defaultLogger } from './runtime/logging';
export type { LoggerOptions } from './runtime/logging';
export { METRICS_NAMESPACE, MetricName, addBatchMetrics, addSinkMetrics, lastArrivalTime, publishBatchStats } from './runtime/metrics';

// Powertools interop (for users migrating from @aws-lambda-powertools/batch)
export { asPowertoolsRecordHandler } from './runtime/powertools';
export type { PowertoolsRecordHandler, PowertoolsRecordHandlerOptions } from './runtime/powertools';

export type { AppDefinition, AppEnvironment, StreamEvent, StreamHandler } from './apps/types';
export { AppName } from './apps/types';

// Processors (pure: records in, effects out)
export { PayloadEncoding, TtlDeletePolicy, createRecordLogger, createScoreAggregator, createTagTotal } from './processors';
export type { RecordLoggerOptions, ScoreAggregatorOptions, TagTotalOptions } from './processors';

// Sinks (idempotent: a record's effects apply once, whatever the delivery)
export { DynamoDBSink, MARKER_TTL_ATTRIBUTE, markerTableDefinition } from './sinks/dynamodb';
export type { DynamoDBSinkMetrics, DynamoDBSinkOptions } from './sinks/dynamodb';
export { DynamoDBFaultSink, FileFaultSink, faultTableDefinition, redriveEvents, redriveFaults } from './sinks/faults';
export type { DynamoDBFaultSinkOptions, FaultStore, FileFaultSinkOptions, ListFaultsOptions, RedriveReport, StoredFault } from './sinks/faults';
export { LogSink } from './sinks/log';
export type { LogSinkOptions } from './sinks/log';
export { SinkMetricName } from './runtime/metrics';

// The seed apps
export { apps } from './apps';
export { createTagsHttpHandlers } from './apps/tags-http';
export type { TagsHttpHandlers, TagsHttpOptions } from './apps/tags-http';
export type { TableDefinition } from './apps/types';
