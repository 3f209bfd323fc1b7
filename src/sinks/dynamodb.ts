/**
 * An idempotent DynamoDB sink for additive effects: whatever Lambda's at-least-once delivery does (duplicates,
 * retries from the middle of a batch, bisection, lost responses, crashes between writes), the target tables end up
 * as if every distinct source record had been applied exactly once (argued in docs/decisions/exactly-once.md).
 *
 * Two modes, one option (`exactlyOnce`): a dedupe marker per record in the same TransactWriteItems as its ADDs
 * (dynamodb-markers.ts), or, for Kinesis records, a checkpoint per shard advanced in the same TransactWriteItems as
 * the batch's summed ADDs (dynamodb-checkpoint.ts). The sink takes a batch through a session, folding each record's
 * effects into what it will write as the record finishes, or in one `apply`.
 */
import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { sharedLogger, type PipelineLogger } from '../runtime/logging';
import { ErrorCode, errorMessage, ShardflowError } from '../runtime/errors';
import { RecordSource, type StreamRecord } from '../runtime/model';
import { isRedriven } from '../runtime/normalize';
import { checkInteger, checkName, checkNames, checkOneOf, resolveOptions } from '../runtime/options';
import type { AddEffect, EffectBase, Fault, RecordEffects, RecordFailure, Sink, SinkResult, SinkSession } from '../runtime/types';
import { CheckpointWrites, checkpointGroupOf, type CapturedRecord } from './dynamodb-checkpoint';
import { MARKER_KEY_ATTRIBUTE, MARKER_TTL_ATTRIBUTE, MarkerWrites, type MarkerSettings } from './dynamodb-markers';
import { BatchWrites, MAX_ACTIONS, zeroCounters, type Counters, type DynamoDBSinkMetrics } from './dynamodb-transactions';
import { resolveBackoff, type BackoffOptions } from './retry';

export { MARKER_TTL_ATTRIBUTE };
export type { DynamoDBSinkMetrics };

/** How the sink makes its effects apply exactly once. */
export const ExactlyOnceMode = {
  /** A dedupe marker per record, put in the same transaction as its effects: any delivery, any parallelism. */
  Markers: 'markers',
  /**
   * For Kinesis records, a checkpoint per (scope, stream, shard) advanced in the same transaction as the batch's
   * summed effects: one item per transaction instead of one per record. Needs ParallelizationFactor 1, and stops a
   * shard's batch at its first failed record. DynamoDB Streams records and redriven faults keep markers.
   */
  Checkpoint: 'checkpoint',
} as const;
export type ExactlyOnceMode = (typeof ExactlyOnceMode)[keyof typeof ExactlyOnceMode];

/**
 * The marker table, which also holds the checkpoints: one string hash key, on-demand capacity. Enable TTL on its
 * `MARKER_TTL_ATTRIBUTE` (CreateTable cannot), or expired markers are kept forever (safe, only costs storage).
 */
export function markerTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    KeySchema: [{ AttributeName: MARKER_KEY_ATTRIBUTE, KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: MARKER_KEY_ATTRIBUTE, AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

export interface DynamoDBSinkOptions {
  /** The client the sink writes with. Its own retry settings apply below the sink's. */
  readonly client: DynamoDBClient;
  /**
   * Table holding the dedupe markers and the checkpoints (see `markerTableDefinition`), in the same account and region
   * as the targets.
   */
  readonly markerTable: string;
  /**
   * Name in logs, errors and metrics.
   * @default 'dynamodb'
   */
  readonly name?: string;
  /**
   * Namespace of this sink's markers and checkpoints. Two sinks that apply effects of the same stream's records (two
   * functions on one stream sharing a marker table) need different scopes, or each would skip the other's records.
   * @default the sink's name
   */
  readonly scope?: string;
  /**
   * How effects are applied exactly once: `'markers'` writes a marker per record; `'checkpoint'` advances a checkpoint
   * per Kinesis shard in each transaction instead (on 10,000 records over 100 keys in one batch, about a fiftieth of
   * the write capacity of one plain UpdateItem per record, a two-hundredth of markers'), but needs the mapping's ParallelizationFactor to be 1 and stops a shard's batch at its first failed record
   * (docs/decisions/exactly-once.md weighs them). DynamoDB Streams records use markers in both modes.
   * @default 'markers'
   * @example { exactlyOnce: 'checkpoint' }
   */
  readonly exactlyOnce?: ExactlyOnceMode;
  /**
   * How long a marker (and a checkpoint nothing advanced) is kept, in seconds, counted from the write. It must exceed
   * the longest time a record can be delivered again after it was first applied: the stream's retention (24 h for
   * DynamoDB Streams, 24 h to 365 days for Kinesis) or, when smaller, the mapping's MaximumRecordAgeInSeconds (at
   * most 7 days).
   * @default 691200 (8 days)
   */
  readonly markerTtlSeconds?: number;
  /**
   * Only effects on these tables are accepted (the others are left to other sinks).
   * @default every table
   */
  readonly tables?: readonly string[];
  /**
   * Most items (markers or the checkpoint, plus target items) per TransactWriteItems, 2 to 100. Smaller transactions
   * collide less often on hot items and hold fewer records when one is refused; larger ones need fewer requests.
   * @default 100
   */
  readonly maxTransactionItems?: number;
  /** Retries of throttling, conflicts, 5xx and lost responses inside one batch. */
  readonly backoff?: BackoffOptions;
  /**
   * Where the sink warns about records dropped as duplicates although their effects differ from the first
   * application's.
   * @default the shared JSON logger of `defaultLogger()`
   */
  readonly logger?: PipelineLogger;
}

const COMPONENT = 'DynamoDBSink';

const DEFAULTS = {
  name: 'dynamodb',
  scope: undefined as string | undefined,
  exactlyOnce: ExactlyOnceMode.Markers as ExactlyOnceMode,
  markerTtlSeconds: 8 * 24 * 60 * 60,
  tables: undefined as readonly string[] | undefined,
  maxTransactionItems: 100,
  backoff: undefined as BackoffOptions | undefined,
  logger: sharedLogger as PipelineLogger,
} satisfies Omit<DynamoDBSinkOptions, 'client' | 'markerTable'>;

export class DynamoDBSink implements Sink<AddEffect> {
  readonly name: string;
  /** How the sink applies effects exactly once (`DynamoDBSinkOptions.exactlyOnce`). */
  readonly exactlyOnce: ExactlyOnceMode;
  /**
   * In checkpoint mode, a shard's records must be applied without holes: the batch loop stops at the first record it
   * reports for retry.
   */
  readonly stopAtFirstFailure: boolean;
  private readonly client: DynamoDBClient;
  private readonly settings: MarkerSettings;
  private readonly tables: ReadonlySet<string> | undefined;
  private readonly backoff: Required<BackoffOptions>;
  private readonly totals = zeroCounters();

  constructor(options: DynamoDBSinkOptions) {
    const settings = resolveOptions(COMPONENT, options, DEFAULTS, ['client', 'markerTable']);
    checkName(COMPONENT, 'markerTable', settings.markerTable);
    checkName(COMPONENT, 'name', settings.name);
    if (settings.scope !== undefined) checkName(COMPONENT, 'scope', settings.scope);
    checkOneOf(COMPONENT, 'exactlyOnce', settings.exactlyOnce, ExactlyOnceMode);
    checkInteger(COMPONENT, 'markerTtlSeconds', settings.markerTtlSeconds, 1);
    checkInteger(COMPONENT, 'maxTransactionItems', settings.maxTransactionItems, 2, MAX_ACTIONS);
    if (settings.tables !== undefined) checkNames(COMPONENT, 'tables', settings.tables);
    this.name = settings.name;
    this.exactlyOnce = settings.exactlyOnce;
    this.stopAtFirstFailure = settings.exactlyOnce === ExactlyOnceMode.Checkpoint;
    this.client = settings.client;
    this.settings = {
      markerTable: settings.markerTable,
      scope: settings.scope ?? this.name,
      markerTtlSeconds: settings.markerTtlSeconds,
      maxItems: settings.maxTransactionItems,
      logger: settings.logger,
    };
    this.tables = settings.tables === undefined ? undefined : new Set(settings.tables);
    this.backoff = resolveBackoff(settings.backoff, COMPONENT);
  }

  accepts(effect: EffectBase): effect is AddEffect {
    return effect.type === 'add' && (this.tables === undefined || this.tables.has((effect as AddEffect).table));
  }

  /** Counters since the sink was created. */
  metrics(): DynamoDBSinkMetrics {
    return { ...this.totals };
  }

  /** A batch, record by record: effects are folded into what the batch will write as each record finishes. */
  open(): SinkSession<AddEffect> {
    return new DynamoDBSinkSession(this.settings, new BatchWrites(this.client, this.name, this.backoff), this.exactlyOnce, this.totals);
  }

  async apply(batch: readonly RecordEffects<AddEffect>[]): Promise<SinkResult> {
    const session = this.open();
    for (const { record, effects } of batch) session.add(record, effects);
    return session.flush();
  }
}

/** One batch of the sink: marker units and per-shard checkpoint runs, written at `flush`. */
class DynamoDBSinkSession implements SinkSession<AddEffect> {
  private readonly markers: MarkerWrites;
  private readonly shards = new Map<string, CheckpointWrites>();
  /** The last shard's writes: a batch is one shard on Lambda. */
  private lastShard: { readonly key: string; readonly writes: CheckpointWrites } | undefined;
  private count = 0;

  constructor(
    private readonly settings: MarkerSettings,
    private readonly batch: BatchWrites,
    private readonly mode: ExactlyOnceMode,
    private readonly totals: Counters,
  ) {
    this.markers = new MarkerWrites(settings, batch);
  }

  add(record: StreamRecord, effects: readonly AddEffect[]): void {
    const index = this.count++;
    if (effects.length === 0) return;
    if (this.mode === ExactlyOnceMode.Markers || record.source !== RecordSource.Kinesis) {
      this.markers.add(index, record, effects);
    } else if (isRedriven(record)) {
      // The shard's checkpoint passed the record when it was captured: markers, one per checkpoint group, so the parts
      // of a record refused by DynamoDB that were applied before are skipped.
      this.markers.add(index, record, effects, (target) => checkpointGroupOf(target.id));
    } else {
      this.shardOf(record.streamArn, record.shardId).add(index, record, effects);
    }
  }

  /**
   * In checkpoint mode, the Kinesis records about to be kept as faults go into their shard's captured set first (see
   * `CheckpointWrites.addCaptured`): the checkpoint passes them, and a later delivery or a redrive may apply them.
   */
  async beforeFaults(faults: readonly Fault[]): Promise<void> {
    if (this.mode !== ExactlyOnceMode.Checkpoint) return;
    const byShard = new Map<CheckpointWrites, CapturedRecord[]>();
    for (const { recordId, provenance } of faults) {
      const { source, streamArn, shardId, sequenceNumber, subSequenceNumber } = provenance;
      // A record without these cannot be applied through a checkpoint on any delivery.
      if (source !== RecordSource.Kinesis || streamArn === undefined || shardId === undefined || sequenceNumber === undefined) continue;
      const writes = this.shardOf(streamArn, shardId);
      const records = byShard.get(writes) ?? [];
      byShard.set(writes, records);
      records.push({ recordId, position: { sequence: sequenceNumber, sub: subSequenceNumber ?? -1 } });
    }
    for (const [writes, records] of byShard) {
      if (!(await writes.addCaptured(records))) {
        throw new ShardflowError(
          ErrorCode.FaultCaptureFailed,
          `Sink ${this.batch.sink} could not note records ${records.map(({ recordId }) => recordId).join(', ')} in their shard's checkpoint ` +
            `before they are kept as faults (${errorMessage(this.batch.exhausted)}); the whole batch must be retried.`,
          { cause: this.batch.exhausted },
        );
      }
    }
  }

  private shardOf(streamArn: string, shardId: string): CheckpointWrites {
    const key = `${streamArn}|${shardId}`;
    if (this.lastShard?.key === key) return this.lastShard.writes;
    let writes = this.shards.get(key);
    if (writes === undefined) {
      writes = new CheckpointWrites(this.settings, this.batch, streamArn, shardId);
      this.shards.set(key, writes);
    }
    this.lastShard = { key, writes };
    return writes;
  }

  async flush(): Promise<SinkResult> {
    await this.markers.flush();
    for (const writes of this.shards.values()) await writes.flush();
    const { failures, counters } = this.batch;
    // Second copies of a record share the first copy's outcome.
    for (const copies of [this.markers.copies, ...[...this.shards.values()].map((writes) => writes.copies)]) {
      for (const [copy, first] of copies) {
        const failure = failures.get(first);
        if (failure !== undefined) failures.set(copy, failure);
      }
    }
    const failed: RecordFailure[] = [...failures.entries()].sort(([a], [b]) => a - b).map(([, failure]) => failure);
    counters.recordsFailed = failed.length;
    let applied = 0;
    for (const committed of [this.markers.committed, ...[...this.shards.values()].map((writes) => writes.committed)]) {
      for (const index of committed) if (!failures.has(index)) applied += 1;
    }
    counters.recordsApplied = applied;
    for (const key of Object.keys(this.totals) as (keyof Counters)[]) this.totals[key] += counters[key];
    return {
      failed,
      counts: {
        requests: counters.requests,
        consumedWriteCapacity: counters.consumedCapacityUnits,
        duplicatesSkipped: counters.duplicatesSkipped,
        conflictingDuplicates: counters.conflictingDuplicates,
        retries: counters.retries,
        recordsFailed: counters.recordsFailed,
      },
    };
  }
}
