/**
 * The dashboard of one app, as data: widgets, each with a title and the metrics it plots. The CDK construct renders
 * it as a CloudWatch dashboard and `shardflow dashboard` as an HTML page from EMF lines, so both show the same
 * graphs.
 */
import { MetricName, SinkMetricName } from '../runtime/metrics';
import { EventSourceMappingMetricName, LambdaMetricName } from './lambda-metrics';

/** Who publishes a metric, which decides its namespace and dimensions. */
export const MetricSource = {
  /** The app's handler, through EMF: namespace `shardflow`, dimension `service` (the app's name). */
  Shardflow: 'shardflow',
  /** Lambda, for the function: namespace `AWS/Lambda`, dimension `FunctionName`. */
  Function: 'function',
  /** Lambda, for each event source mapping: namespace `AWS/Lambda`, dimension `EventSourceMappingUUID`. */
  EventSourceMapping: 'event-source-mapping',
} as const;
export type MetricSource = (typeof MetricSource)[keyof typeof MetricSource];

/** How a widget sums a metric's values over a period: CloudWatch's statistic names. */
export const Statistic = { Sum: 'Sum', Maximum: 'Maximum', Average: 'Average' } as const;
export type Statistic = (typeof Statistic)[keyof typeof Statistic];

/** What every dashboard metric has: how it is summed over a period and its name in the legend. */
export interface MetricBase {
  readonly statistic: Statistic;
  /** The line's name in the legend. */
  readonly label: string;
}

export type DashboardMetric =
  | (MetricBase & { readonly source: typeof MetricSource.Shardflow; readonly name: MetricName | SinkMetricName })
  | (MetricBase & { readonly source: typeof MetricSource.Function; readonly name: LambdaMetricName })
  | (MetricBase & { readonly source: typeof MetricSource.EventSourceMapping; readonly name: EventSourceMappingMetricName });

export interface DashboardWidget {
  readonly title: string;
  /** The unit of every metric of the widget, shown on its axis. */
  readonly unit: 'Count' | 'Milliseconds';
  readonly metrics: readonly DashboardMetric[];
}

const shardflow = (name: MetricName | SinkMetricName, label: string, statistic: Statistic = Statistic.Sum): DashboardMetric => ({
  source: MetricSource.Shardflow,
  name,
  label,
  statistic,
});
const lambda = (name: LambdaMetricName, label: string, statistic: Statistic = Statistic.Sum): DashboardMetric => ({
  source: MetricSource.Function,
  name,
  label,
  statistic,
});
const mapping = (name: EventSourceMappingMetricName, label: string): DashboardMetric => ({
  source: MetricSource.EventSourceMapping,
  name,
  label,
  statistic: Statistic.Sum,
});

/** The widgets of an app's dashboard, in reading order: what came in, what went wrong, how fast, the sinks, Lambda. */
export const DASHBOARD_WIDGETS: readonly DashboardWidget[] = [
  {
    title: 'Records',
    unit: 'Count',
    metrics: [
      shardflow(MetricName.RecordsIn, 'in'),
      shardflow(MetricName.RecordsProcessed, 'processed'),
      shardflow(MetricName.RecordsUnrouted, 'unrouted (no processor selected them)'),
    ],
  },
  {
    title: 'Records reported for retry',
    unit: 'Count',
    metrics: [
      shardflow(MetricName.RecordsFailed, 'failed'),
      shardflow(MetricName.RecordsSkipped, 'behind a failure of their key'),
      shardflow(MetricName.RecordsNotStarted, 'not started before the deadline'),
      shardflow(MetricName.BatchItemFailures, 'batch item failures'),
    ],
  },
  {
    title: 'Faults and failed batches',
    unit: 'Count',
    metrics: [
      shardflow(MetricName.RecordsFaulted, 'records captured as faults'),
      shardflow(MetricName.BatchErrors, 'batches failed as a whole'),
      shardflow(MetricName.DeploymentErrors, 'batches failed by the deployment (missing table, no permission)'),
    ],
  },
  {
    title: 'Iterator age (handler)',
    unit: 'Milliseconds',
    metrics: [shardflow(MetricName.IteratorAge, 'max', Statistic.Maximum)],
  },
  {
    title: 'Batch duration',
    unit: 'Milliseconds',
    metrics: [shardflow(MetricName.BatchDuration, 'average', Statistic.Average), shardflow(MetricName.BatchDuration, 'max', Statistic.Maximum)],
  },
  {
    title: 'Effects and sink requests',
    unit: 'Count',
    metrics: [
      shardflow(MetricName.Effects, 'effects'),
      shardflow(SinkMetricName.Requests, 'sink requests'),
      shardflow(SinkMetricName.Retries, 'sink retries'),
    ],
  },
  {
    title: 'Sink write capacity',
    unit: 'Count',
    metrics: [shardflow(SinkMetricName.ConsumedWriteCapacity, 'write capacity units')],
  },
  {
    title: 'Sink outcomes',
    unit: 'Count',
    metrics: [
      shardflow(SinkMetricName.DuplicatesSkipped, 'duplicates skipped'),
      shardflow(SinkMetricName.ConflictingDuplicates, 'duplicates whose content differs'),
      shardflow(SinkMetricName.RecordsFailed, 'records failed'),
    ],
  },
  {
    title: 'Lambda invocations',
    unit: 'Count',
    metrics: [
      lambda(LambdaMetricName.Invocations, 'invocations'),
      lambda(LambdaMetricName.Errors, 'errors'),
      lambda(LambdaMetricName.Throttles, 'throttles'),
      lambda(LambdaMetricName.ConcurrentExecutions, 'concurrent executions (max)', Statistic.Maximum),
    ],
  },
  {
    title: 'Lambda duration and iterator age',
    unit: 'Milliseconds',
    metrics: [
      lambda(LambdaMetricName.Duration, 'duration (average)', Statistic.Average),
      lambda(LambdaMetricName.Duration, 'duration (max)', Statistic.Maximum),
      lambda(LambdaMetricName.IteratorAge, 'iterator age (max)', Statistic.Maximum),
    ],
  },
  {
    title: 'Event source mapping',
    unit: 'Count',
    metrics: [
      mapping(EventSourceMappingMetricName.Polled, 'polled'),
      mapping(EventSourceMappingMetricName.FilteredOut, 'filtered out'),
      mapping(EventSourceMappingMetricName.Invoked, 'invoked'),
      mapping(EventSourceMappingMetricName.FailedInvoke, 'failed invoke'),
      mapping(EventSourceMappingMetricName.Dropped, 'dropped'),
      mapping(EventSourceMappingMetricName.OnFailureDestinationDelivered, 'sent to the on-failure destination'),
    ],
  },
];
