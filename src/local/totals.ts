/**
 * Run totals of a local run (replay, dev): what the handlers reported batch by batch through the local invocation
 * hook, summed the way CloudWatch sums the metrics (a retried record counts in every invocation that saw it).
 */
import type { StreamEvent } from '../runtime/types';
import type { BatchReport, LocalInvocation } from '../runtime/local-invocation';
import { tableNameFromStreamArn } from '../runtime/dynamodb';
import { recordPosition } from './lambda-records';

export interface RunTotals {
  /** Batches a shardflow handler reported (batches that failed as a whole report nothing). */
  readonly batches: number;
  readonly recordsIn: number;
  readonly processed: number;
  /** Records no processor selected: acknowledged without effects. */
  readonly unrouted: number;
  readonly failed: number;
  readonly skipped: number;
  /** Not started before the invocation's deadline. */
  readonly notStarted: number;
  readonly faulted: number;
  readonly effects: number;
  /** Requests the sinks sent (retries included). */
  readonly sinkRequests: number;
  /** Records the sinks skipped because an earlier delivery had applied them. */
  readonly duplicatesSkipped: number;
  /** The largest iterator age a batch reported, in milliseconds; undefined when none did. */
  readonly maxIteratorAgeMs: number | undefined;
}

/** Records no processor selected, by the stream (Kinesis stream or table name) they came from. */
export type UnroutedStreams = Readonly<Record<string, number>>;

/** The stream or table a record's ARN names. */
export function streamNameOf(arn: string | undefined): string {
  if (arn === undefined) return 'an unknown stream';
  const table = tableNameFromStreamArn(arn);
  if (table !== undefined) return table;
  const kinesis = /:stream\/([^/]+)$/.exec(arn);
  return kinesis?.[1] ?? arn;
}

type Counts = { -readonly [K in keyof Omit<RunTotals, 'maxIteratorAgeMs'>]: number };

/** Sums the reports of the invocations it hands out hooks to. */
export class TotalsCollector {
  private readonly counts: Counts = {
    batches: 0,
    recordsIn: 0,
    processed: 0,
    unrouted: 0,
    failed: 0,
    skipped: 0,
    notStarted: 0,
    faulted: 0,
    effects: 0,
    sinkRequests: 0,
    duplicatesSkipped: 0,
  };
  private maxIteratorAgeMs: number | undefined;
  private readonly unroutedBy = new Map<string, number>();

  /** @param now the clock handlers read their iterator age from (a replay passes the recording's timeline). */
  constructor(private readonly now: () => number = Date.now) {}

  /** A hook for the invocations of one event: unrouted records are attributed to the event's streams. */
  invocation(event: StreamEvent): LocalInvocation {
    const streams = [...new Set(event.Records.map((record) => streamNameOf(recordPosition(record).streamArn)))].join(', ');
    return {
      now: this.now,
      onBatch: (report) => this.add(report, streams),
    };
  }

  private add({ stats, sinkCounts, iteratorAgeMs }: BatchReport, streams: string): void {
    const counts = this.counts;
    counts.batches += 1;
    counts.recordsIn += stats.recordsIn;
    counts.processed += stats.processed;
    counts.unrouted += stats.unrouted;
    counts.failed += stats.failed;
    counts.skipped += stats.skipped;
    counts.notStarted += stats.deadlineSkipped;
    counts.faulted += stats.faulted;
    counts.effects += stats.effects;
    counts.sinkRequests += sinkCounts.requests ?? 0;
    counts.duplicatesSkipped += sinkCounts.duplicatesSkipped ?? 0;
    if (iteratorAgeMs !== undefined) this.maxIteratorAgeMs = Math.max(this.maxIteratorAgeMs ?? 0, iteratorAgeMs);
    if (stats.unrouted > 0) this.unroutedBy.set(streams, (this.unroutedBy.get(streams) ?? 0) + stats.unrouted);
  }

  totals(): RunTotals {
    return { ...this.counts, maxIteratorAgeMs: this.maxIteratorAgeMs };
  }

  unrouted(): UnroutedStreams {
    return Object.fromEntries(this.unroutedBy);
  }
}

/**
 * The warning for records no processor selected, or undefined when every record was routed: most often a
 * selector that names the wrong stream or table.
 */
export function unroutedWarning(unrouted: UnroutedStreams): string | undefined {
  const entries = Object.entries(unrouted);
  if (entries.length === 0) return undefined;
  const list = entries.map(([streams, records]) => `${records} from ${streams}`).join('; ');
  return `Warning: no processor selected some records (${list}); they were acknowledged without effects. Check the processors' select.streams against these names.`;
}
