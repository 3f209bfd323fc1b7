/**
 * Metric names, defined once: the handler publishes them as CloudWatch EMF (one line per invocation, written by
 * `EmfWriter` or through a Powertools `Metrics` the user gives) and the infrastructure code graphs and alarms on the
 * same names.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { BatchStats } from './batch-outcome';
import type { SinkCounts, StreamEvent } from './types';

/** The units shardflow's metrics use, spelled as Powertools' `MetricUnit` spells them (its import is type-only here). */
export const MetricUnit = { Count: 'Count', Milliseconds: 'Milliseconds' } as const;

/** The CloudWatch namespace shardflow publishes to unless told otherwise. */
export const METRICS_NAMESPACE = 'shardflow';

export const MetricName = {
  /** Records Lambda delivered in the batch. */
  RecordsIn: 'RecordsIn',
  /** Records processed with every effect applied. */
  RecordsProcessed: 'RecordsProcessed',
  /** Records reported for retry because they failed. */
  RecordsFailed: 'RecordsFailed',
  /** Records reported for retry behind a failed record with the same partition key. */
  RecordsSkipped: 'RecordsSkipped',
  /** Records reported for retry because the invocation's deadline came first. */
  RecordsNotStarted: 'RecordsNotStarted',
  /** Records captured in the fault sink. */
  RecordsFaulted: 'RecordsFaulted',
  /** Records no processor wanted (acknowledged). */
  RecordsUnrouted: 'RecordsUnrouted',
  /** Effects handed to sinks. */
  Effects: 'Effects',
  /** Distinct sequence numbers in the partial batch response. */
  BatchItemFailures: 'BatchItemFailures',
  /** Batches that failed as a whole (the handler threw; Lambda retries all of it). */
  BatchErrors: 'BatchErrors',
  /**
   * Batches that failed as a whole because a sink or the fault sink cannot reach its tables: a missing table, a
   * missing permission, an unknown endpoint, invalid credentials (`DEPLOYMENT_ERROR`). Alarm on it: no record is
   * faulted for it, so nothing else shows a broken deployment but the iterator age.
   */
  DeploymentErrors: 'DeploymentErrors',
  /** Time the pipeline took for the batch. */
  BatchDuration: 'BatchDuration',
  /** Age of the batch's last record when the batch finished (now minus its arrival time). */
  IteratorAge: 'IteratorAge',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

/** The sinks' counts (`SinkCounts`), published next to the batch metrics, summed over a batch's sinks. */
export const SinkMetricName = {
  /** Requests sent, retries included. */
  Requests: 'SinkRequests',
  /** Write capacity units consumed. */
  ConsumedWriteCapacity: 'SinkConsumedWriteCapacity',
  /** Records skipped because an earlier delivery had applied them. */
  DuplicatesSkipped: 'SinkDuplicatesSkipped',
  /** Of those, records whose effects differed from the first application's: the same eventID with other content. */
  ConflictingDuplicates: 'SinkConflictingDuplicates',
  /** Requests re-sent after throttling, conflicts, 5xx or lost responses. */
  Retries: 'SinkRetries',
  /** Records whose effects a sink could not apply. */
  RecordsFailed: 'SinkRecordsFailed',
} as const;

const SINK_METRIC_OF = {
  requests: SinkMetricName.Requests,
  consumedWriteCapacity: SinkMetricName.ConsumedWriteCapacity,
  duplicatesSkipped: SinkMetricName.DuplicatesSkipped,
  conflictingDuplicates: SinkMetricName.ConflictingDuplicates,
  retries: SinkMetricName.Retries,
  recordsFailed: SinkMetricName.RecordsFailed,
} as const satisfies Record<keyof Required<SinkCounts>, SinkMetricName>;
export type SinkMetricName = (typeof SinkMetricName)[keyof typeof SinkMetricName];

/** Epoch milliseconds at which the batch's last record arrived (Kinesis) or was created (DynamoDB). */
export function lastArrivalTime(event: StreamEvent): number | undefined {
  const records: unknown = (event as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records) || records.length === 0) return undefined;
  const last: unknown = records[records.length - 1];
  if (last === null || typeof last !== 'object') return undefined;
  const { kinesis, dynamodb } = last as {
    kinesis?: { approximateArrivalTimestamp?: unknown };
    dynamodb?: { ApproximateCreationDateTime?: unknown };
  };
  const seconds = kinesis?.approximateArrivalTimestamp ?? dynamodb?.ApproximateCreationDateTime;
  return typeof seconds === 'number' && Number.isFinite(seconds) ? Math.round(seconds * 1000) : undefined;
}

/** Adds one batch's counts (and, when known, its iterator age) to `metrics`; the caller flushes. */
export function addBatchMetrics(metrics: Metrics, stats: BatchStats, iteratorAgeMs: number | undefined): void {
  const count = (name: MetricName, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  count(MetricName.RecordsIn, stats.recordsIn);
  count(MetricName.RecordsProcessed, stats.processed);
  count(MetricName.RecordsFailed, stats.failed);
  count(MetricName.RecordsSkipped, stats.skipped);
  count(MetricName.RecordsNotStarted, stats.deadlineSkipped);
  count(MetricName.RecordsFaulted, stats.faulted);
  count(MetricName.RecordsUnrouted, stats.unrouted);
  count(MetricName.Effects, stats.effects);
  count(MetricName.BatchItemFailures, stats.batchItemFailures);
  metrics.addMetric(MetricName.BatchDuration, MetricUnit.Milliseconds, stats.durationMs);
  if (iteratorAgeMs !== undefined) metrics.addMetric(MetricName.IteratorAge, MetricUnit.Milliseconds, Math.max(0, iteratorAgeMs));
}

/** Adds the counts the sinks reported to `metrics`, under the sink metric names; the caller flushes. */
export function addSinkMetrics(metrics: Metrics, counts: SinkCounts): void {
  for (const [name, metric] of Object.entries(SINK_METRIC_OF)) {
    const value = counts[name as keyof SinkCounts];
    if (value !== undefined) metrics.addMetric(metric, MetricUnit.Count, value);
  }
}

/** The truthy spellings Powertools accepts in its boolean environment variables. */
const TRUTHY = new Set(['1', 'y', 'yes', 't', 'true', 'on']);

/** A Powertools boolean environment variable: true, false, or undefined when unset. */
export function envFlag(name: string): boolean | undefined {
  const value = process.env[name];
  return value === undefined ? undefined : TRUTHY.has(value.trim().toLowerCase());
}

/** One metric of an EMF document. */
interface EmfMetric {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
}

/**
 * Writes a batch's metrics as one CloudWatch EMF line on stdout: the document Powertools `Metrics` writes (namespace,
 * the `service` dimension, each metric's name, unit and value), written directly. Powertools stores each metric
 * through its per-invocation storage and serializes them generically, about 22 µs per batch in bench/; a shardflow
 * handler publishes a fixed set once per invocation, about 3 µs here, and that difference is a fifth of what a hand
 * loop spends on a batch of 100 small records. Like Powertools, it writes nothing when `POWERTOOLS_METRICS_DISABLED`
 * is true, or when it is unset and `POWERTOOLS_DEV` is true.
 */
export class EmfWriter {
  private readonly disabled: boolean;
  /** The dimension sets, `[["service"]]`, or `[]` when the service cannot be a dimension value. */
  private readonly dimensionSets: string;
  /** The `service` member (with its leading comma), or nothing. */
  private readonly dimension: string;

  constructor(
    private readonly namespace: string,
    service: string,
  ) {
    this.disabled = envFlag('POWERTOOLS_METRICS_DISABLED') ?? envFlag('POWERTOOLS_DEV') ?? false;
    const value = serviceDimension(service);
    this.dimensionSets = value === undefined ? '[]' : '[["service"]]';
    this.dimension = value === undefined ? '' : `,"service":${JSON.stringify(value)}`;
  }

  /** A batch's counts, its sinks' counts and (when known) its iterator age. */
  publishBatch(stats: BatchStats, sinkCounts: SinkCounts, iteratorAgeMs: number | undefined): void {
    const metrics: EmfMetric[] = [
      count(MetricName.RecordsIn, stats.recordsIn),
      count(MetricName.RecordsProcessed, stats.processed),
      count(MetricName.RecordsFailed, stats.failed),
      count(MetricName.RecordsSkipped, stats.skipped),
      count(MetricName.RecordsNotStarted, stats.deadlineSkipped),
      count(MetricName.RecordsFaulted, stats.faulted),
      count(MetricName.RecordsUnrouted, stats.unrouted),
      count(MetricName.Effects, stats.effects),
      count(MetricName.BatchItemFailures, stats.batchItemFailures),
      { name: MetricName.BatchDuration, unit: MetricUnit.Milliseconds, value: stats.durationMs },
    ];
    if (iteratorAgeMs !== undefined) metrics.push({ name: MetricName.IteratorAge, unit: MetricUnit.Milliseconds, value: Math.max(0, iteratorAgeMs) });
    for (const [name, metric] of Object.entries(SINK_METRIC_OF)) {
      const value = sinkCounts[name as keyof SinkCounts];
      if (value !== undefined) metrics.push(count(metric, value));
    }
    this.write(metrics);
  }

  /** A batch that failed as a whole: `BatchErrors`, `DeploymentErrors` when the deployment is the cause, records in. */
  publishBatchError(recordsIn: number, deployment: boolean): void {
    this.write([count(MetricName.BatchErrors, 1), ...(deployment ? [count(MetricName.DeploymentErrors, 1)] : []), count(MetricName.RecordsIn, recordsIn)]);
  }

  private write(metrics: readonly EmfMetric[]): void {
    if (this.disabled) return;
    let directives = '';
    let values = '';
    for (let i = 0; i < metrics.length; i++) {
      const { name, unit, value } = metrics[i]!;
      directives += `${i === 0 ? '' : ','}{"Name":"${name}","Unit":"${unit}"}`;
      values += `,"${name}":${JSON.stringify(value)}`;
    }
    process.stdout.write(
      `{"_aws":{"Timestamp":${Date.now()},"CloudWatchMetrics":[{"Namespace":${JSON.stringify(this.namespace)},"Dimensions":${this.dimensionSets},` +
        `"Metrics":[${directives}]}]}${this.dimension}${values}}\n`,
    );
  }
}

/** What Powertools `Metrics` names a service it is not given (an empty name counts as none). */
const POWERTOOLS_DEFAULT_SERVICE = 'service_undefined';

/**
 * The `service` dimension value Powertools `Metrics` writes for `service`: an empty name falls back to
 * POWERTOOLS_SERVICE_NAME (trimmed), then `service_undefined`, as Powertools `Logger` does too; a value that is not
 * a string or is only whitespace, which CloudWatch refuses as a dimension value, is left out (undefined), dimension
 * and all, as Powertools leaves it out.
 */
function serviceDimension(service: unknown): string | undefined {
  const value = service || process.env.POWERTOOLS_SERVICE_NAME?.trim() || POWERTOOLS_DEFAULT_SERVICE;
  return typeof value === 'string' && value.trim().length > 0 ? value : undefined;
}

function count(name: string, value: number): EmfMetric {
  return { name, unit: MetricUnit.Count, value };
}

/** Adds a batch's counts and writes them out as one EMF line. */
export function publishBatchStats(metrics: Metrics, stats: BatchStats, iteratorAgeMs?: number): void {
  addBatchMetrics(metrics, stats, iteratorAgeMs);
  metrics.publishStoredMetrics();
}
