/**
 * Sending the DynamoDB sink's TransactWriteItems, in both exactly-once modes: one attempt at a time, with its
 * outcome classified (committed; cancelled, with the reason of each action; retryable or not), the sink's counters
 * kept, and a broken deployment turned into one `DEPLOYMENT_ERROR` for the whole batch.
 */
import {
  TransactWriteItemsCommand,
  type CancellationReason,
  type DynamoDBClient,
  type TransactWriteItem,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { ErrorCode, ShardflowError } from '../runtime/errors';
import type { RecordFailure } from '../runtime/types';
import { awsErrorName, backoffDelay, deploymentError, isDeploymentAwsError, isRetryableAwsError, sinkError, sleep, type BackoffOptions } from './retry';

/** Counters of the sink's lifetime (`DynamoDBSink.metrics()`); each batch reports its own in `SinkResult.counts`. */
export interface DynamoDBSinkMetrics {
  /** TransactWriteItems requests sent, failed and retried ones included. */
  readonly requests: number;
  /** Transactions that committed. */
  readonly transactions: number;
  /** Sum of `ConsumedCapacity.CapacityUnits` over committed transactions (write units, 2 per item up to 1 KB). */
  readonly consumedCapacityUnits: number;
  /** Records whose effects were applied by this sink now. */
  readonly recordsApplied: number;
  /**
   * Records (or parts of a record) skipped because an earlier delivery had applied them: their marker existed, or
   * they were at or below their shard's checkpoint.
   */
  readonly duplicatesSkipped: number;
  /**
   * Of those, the ones whose earlier application had other effects: the same record id with other content (a
   * forged or reused eventID, or a processor that changed between deliveries). Logged as a warning each. Markers
   * keep what they applied; a checkpoint does not, so only marker mode tells.
   */
  readonly conflictingDuplicates: number;
  /** Requests re-sent after throttling, a conflict, a 5xx or a lost response. */
  readonly retries: number;
  /** Records reported in `SinkResult.failed`. */
  readonly recordsFailed: number;
}

export type Counters = { -readonly [K in keyof DynamoDBSinkMetrics]: number };

export function zeroCounters(): Counters {
  return {
    requests: 0,
    transactions: 0,
    consumedCapacityUnits: 0,
    recordsApplied: 0,
    duplicatesSkipped: 0,
    conflictingDuplicates: 0,
    retries: 0,
    recordsFailed: 0,
  };
}

export type TransactionInput = TransactWriteItemsCommandInput & { TransactItems: TransactWriteItem[] };

/** TransactWriteItems limits: 100 actions on distinct items, 4 MB in total (estimated here with a margin). */
export const MAX_ACTIONS = 100;
export const MAX_TRANSACTION_BYTES = 3_500_000;

/** Cancellation reason codes a later attempt can get past. Anything else (ValidationError, ...) is permanent. */
const RETRYABLE_CANCELLATIONS: ReadonlySet<string> = new Set(['TransactionConflict', 'ProvisionedThroughputExceeded', 'ThrottlingError', 'RequestLimitExceeded']);

export const CONDITION_FAILED = 'ConditionalCheckFailed';

/** What one attempt came to. */
export type Attempt =
  | { readonly committed: true }
  | {
      readonly committed: false;
      readonly error: unknown;
      /** One per action when DynamoDB cancelled the transaction, in the order of the actions. */
      readonly reasons: readonly CancellationReason[] | undefined;
      /**
       * Whether the same request can succeed later: throttling, a conflict, a 5xx, no answer; for a cancellation,
       * when every reason other than a failed condition is one of those or none.
       */
      readonly retryable: boolean;
    };

/** One batch's state shared by the sink's writers: counters, failures by record index, and a transaction out of attempts. */
export class BatchWrites {
  readonly counters = zeroCounters();
  readonly failures = new Map<number, RecordFailure>();
  /** Set when a transaction ran out of attempts: the rest of the batch is not attempted in this invocation. */
  exhausted: unknown = undefined;

  constructor(
    private readonly client: DynamoDBClient,
    readonly sink: string,
    readonly backoff: Required<BackoffOptions>,
  ) {}

  /** Sends one transaction. Throws `DEPLOYMENT_ERROR` when the tables, the permission or the endpoint are wrong. */
  async attempt(input: TransactionInput): Promise<Attempt> {
    this.counters.requests += 1;
    try {
      const output = await this.client.send(new TransactWriteItemsCommand(input));
      this.counters.transactions += 1;
      for (const consumed of output.ConsumedCapacity ?? []) this.counters.consumedCapacityUnits += consumed.CapacityUnits ?? 0;
      return { committed: true };
    } catch (error) {
      // Not the records' fault: failing each of them would drain the stream into the fault table.
      if (isDeploymentAwsError(error)) throw deploymentError(`Sink ${this.sink}`, `DynamoDB tables ${tablesOf(input)}`, error);
      const reasons = cancellationReasons(error, input.TransactItems.length);
      const retryable =
        reasons === undefined
          ? isRetryableAwsError(error)
          : reasons.every((reason) => reason.Code === undefined || reason.Code === 'None' || reason.Code === CONDITION_FAILED || RETRYABLE_CANCELLATIONS.has(reason.Code));
      return { committed: false, error, reasons, retryable };
    }
  }

  /**
   * After a retryable failure: whether attempt `retry` (1 for the first retry) may be made, after a capped, fully
   * jittered pause. When the attempts are used up, the batch is marked exhausted.
   */
  async retry(retry: number, error: unknown): Promise<boolean> {
    if (retry >= this.backoff.maxAttempts) {
      this.exhausted = error;
      return false;
    }
    this.counters.retries += 1;
    await sleep(backoffDelay(retry, this.backoff));
    return true;
  }

  /** Records the failure of a record not applied now, unless it already has one. */
  fail(index: number, recordId: string, error: unknown, retryable: boolean): void {
    if (!this.failures.has(index)) this.failures.set(index, { recordId, error: sinkError(this.sink, recordId, error, retryable) });
  }

  /** A record not applied because an earlier record of its checkpoint group was refused in this batch. */
  failBehind(index: number, recordId: string, refused: string): void {
    if (this.failures.has(index)) return;
    const error = new ShardflowError(
      ErrorCode.SinkTransient,
      `Sink ${this.sink} did not apply the effects of record ${recordId}: DynamoDB refused those of record ${refused}, ` +
        'earlier in its shard, and a checkpoint cannot pass a record that is not applied; a later delivery can apply them.',
      { recordId },
    );
    this.failures.set(index, { recordId, error });
  }

  /** A record not attempted because an earlier write of the batch ran out of retries. */
  failNotAttempted(index: number, recordId: string): void {
    if (this.failures.has(index)) return;
    const error = new ShardflowError(
      ErrorCode.SinkTransient,
      `Sink ${this.sink} did not apply the effects of record ${recordId}: an earlier write of this batch ran out of retries ` +
        `(${awsErrorName(this.exhausted)}); a later delivery can apply them.`,
      { recordId, cause: this.exhausted },
    );
    this.failures.set(index, { recordId, error });
  }
}

/** The tables a transaction writes, for messages. */
function tablesOf(input: TransactionInput): string {
  const tables = new Set(input.TransactItems.map((item) => item.Put?.TableName ?? item.Update?.TableName));
  return [...tables].join(', ');
}

/** The per-action reasons of a TransactionCanceledException, when they line up with the actions sent. */
function cancellationReasons(error: unknown, actions: number): readonly CancellationReason[] | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, CancellationReasons } = error as { name?: unknown; CancellationReasons?: unknown };
  if (name !== 'TransactionCanceledException' || !Array.isArray(CancellationReasons)) return undefined;
  return CancellationReasons.length === actions ? (CancellationReasons as CancellationReason[]) : undefined;
}
