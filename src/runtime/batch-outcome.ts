/** What one batch came to: the partial batch response, the counts, the captured faults. */
import type { PartialBatchResponse } from './model';
import type { Fault, SinkCounts } from './types';

/** Counts of one batch. Every record is counted once in exactly one of the outcome counts. */
export interface BatchStats {
  /** Records Lambda delivered. */
  readonly recordsIn: number;
  /**
   * Records the outcome counts add up to: one per KPL user record of each decoded aggregate, one per record
   * otherwise. `processed + unrouted + failed + skipped + deadlineSkipped + faulted === records`.
   */
  readonly records: number;
  /** Processed by at least one processor, all effects applied. */
  readonly processed: number;
  /** Wanted by no processor: acknowledged without effects. */
  readonly unrouted: number;
  /** Failed (retryably, or permanently under the retry policy) and reported for retry. */
  readonly failed: number;
  /** Reported for retry because an earlier record with the same partition key failed. */
  readonly skipped: number;
  /** Not started because the deadline was reached; reported for retry. */
  readonly deadlineSkipped: number;
  /** Captured in the fault sink. */
  readonly faulted: number;
  /** Effects handed to sinks. */
  readonly effects: number;
  /** Identifiers in the response (distinct sequence numbers). */
  readonly batchItemFailures: number;
  readonly durationMs: number;
}

export interface BatchOutcome {
  readonly response: PartialBatchResponse;
  readonly stats: BatchStats;
  /** Faults captured in this batch. */
  readonly faults: readonly Fault[];
  /** What the sinks counted (requests, capacity, duplicates...), summed over the sinks that reported counts. */
  readonly sinkCounts: SinkCounts;
}
