/**
 * A deployable app: the seed systems wired as Lambda handlers, with the tables and streams they need.
 * The CLI (replay, dev, npm start) and the infrastructure code read these definitions.
 */
import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StreamHandler } from '../runtime/types';

// Defined by the runtime, which must not depend on apps; re-exported for the apps' other importers.
export type { StreamEvent, StreamHandler } from '../runtime/types';

export interface AppEnvironment {
  readonly dynamodb: DynamoDBClient;
  /** Where captured faults go: a DynamoDB table (default) or, for development, a JSONL file. */
  readonly faults?: { readonly file: string } | { readonly table: string };
}

/** A table an app needs: CreateTable's input plus the TTL attribute, which CreateTable cannot set. */
export type TableDefinition = CreateTableCommandInput & {
  /** Attribute holding an epoch-seconds expiry; enable TTL on it after creating the table. */
  readonly timeToLiveAttribute?: string;
};

export const AppName = {
  Scores: 'scores',
  Tags: 'tags',
  Orders: 'orders',
  KinesisLog: 'kinesis-log',
} as const;
export type AppName = (typeof AppName)[keyof typeof AppName];

export interface AppDefinition {
  readonly name: AppName;
  /**
   * Every table the app reads or writes, created when missing. A table whose StreamSpecification is enabled is
   * one the app consumes: its stream is mapped to the app's handler.
   */
  readonly tables: readonly TableDefinition[];
  /** Kinesis streams the app consumes. */
  readonly kinesisStreams: readonly string[];
  /** Tables the app's sinks write, in the order a summary lists them. */
  readonly outputTables: readonly string[];
  /** Event source mapping settings the seed uses (batch size, starting position). */
  readonly eventSource: { readonly batchSize: number; readonly startingPosition: 'TRIM_HORIZON' | 'LATEST' };
  createHandler(environment: AppEnvironment): StreamHandler;
}
