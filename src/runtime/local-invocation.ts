/**
 * The contract between a handler and the local runner (replay, dev): the runner puts a `LocalInvocation` on the
 * Lambda context it makes, and a handler made by `createHandler` reports each batch to it and reads the time
 * from it. The key is a global symbol, so a handler built by another copy of shardflow (a user's app loaded by
 * the CLI from its own node_modules) finds it too. On Lambda the context has no such key and nothing changes.
 */
import type { BatchStats } from './batch-outcome';
import type { SinkCounts } from './types';

export const LOCAL_INVOCATION: unique symbol = Symbol.for('shardflow.localInvocation') as never;

/** One batch as the handler saw it. */
export interface BatchReport {
  readonly stats: BatchStats;
  readonly sinkCounts: SinkCounts;
  /** Now minus the arrival of the batch's last record, by `LocalInvocation.now`; undefined when unknown. */
  readonly iteratorAgeMs: number | undefined;
}

export interface LocalInvocation {
  /** Epoch milliseconds: a replay's clock is the recording's own timeline, not the wall clock. */
  now(): number;
  /** Called once per batch the pipeline ran (not for a batch that failed as a whole). */
  onBatch(report: BatchReport): void;
}

/** The local runner's hook on `context`, if any. */
export function localInvocationOf(context: unknown): LocalInvocation | undefined {
  if (typeof context !== 'object' || context === null) return undefined;
  const hook = (context as { [LOCAL_INVOCATION]?: unknown })[LOCAL_INVOCATION];
  if (typeof hook !== 'object' || hook === null) return undefined;
  const { now, onBatch } = hook as Partial<LocalInvocation>;
  return typeof now === 'function' && typeof onBatch === 'function' ? (hook as LocalInvocation) : undefined;
}
