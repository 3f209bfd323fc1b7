/**
 * Event source mapping settings: the app's own (`app.eventSource`) with safe defaults, each overridable per
 * construct. The defaults keep one poison record from blocking a shard (finite retries, bisection, a maximum record
 * age, an on-failure queue) and keep the handler's partial batch responses meaningful.
 */
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { StreamEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { AppDefinition, FilterPattern } from '../app/types';
import { checkInteger, optionsError } from '../runtime/options';
import { ExactlyOnceMode } from '../sinks/dynamodb';

/** Overrides of the mappings' settings; what is not given comes from the app's `eventSource`. */
export interface MappingOptions {
  /** @default the app's `eventSource.batchSize` */
  readonly batchSize?: number;
  /** @default the app's `eventSource.startingPosition` */
  readonly startingPosition?: lambda.StartingPosition;
  /** @default the app's `eventSource.maxBatchingWindowSeconds` */
  readonly maxBatchingWindow?: Duration;
  /** @default the app's `eventSource.retryAttempts` */
  readonly retryAttempts?: number;
  /** @default the app's `eventSource.bisectBatchOnError` */
  readonly bisectBatchOnError?: boolean;
  /** @default the app's `eventSource.maxRecordAgeSeconds` */
  readonly maxRecordAge?: Duration;
  /**
   * Batches of one shard in flight at once. The exactly-once sink in marker mode does not need 1 (markers are per
   * record and ADD commutes), but per-key order does when producers aggregate with the KPL: Lambda then spreads one
   * user key over several aggregates' keys. An app in checkpoint mode (`exactlyOnce: 'checkpoint'`) needs 1 on its
   * Kinesis streams, and anything else is refused: its checkpoint assumes one batch of a shard at a time.
   * @default 1
   */
  readonly parallelizationFactor?: number;
  /**
   * Let the handler's partial batch response (`batchItemFailures`) decide what is retried. Without it Lambda takes
   * the response as success and the failed records are lost.
   * @default true
   */
  readonly reportBatchItemFailures?: boolean;
  /**
   * The mapping's own metrics (polled, filtered out, invoked, failed, dropped and on-failure-delivered events), shown
   * on the dashboard next to the function's.
   * @default true
   */
  readonly eventCountMetrics?: boolean;
}

const COMPONENT = 'ShardflowApp, mapping';

function startingPosition(position: AppDefinition['eventSource']['startingPosition']): lambda.StartingPosition {
  return position === 'LATEST' ? lambda.StartingPosition.LATEST : lambda.StartingPosition.TRIM_HORIZON;
}

/** One source's mapping settings. */
export function streamEventSourceProps(app: AppDefinition, source: string, options: MappingOptions, onFailure: lambda.IEventSourceDlq): StreamEventSourceProps {
  const settings = app.eventSource;
  const parallelizationFactor = options.parallelizationFactor ?? 1;
  checkInteger(COMPONENT, 'parallelizationFactor', parallelizationFactor, 1, 10);
  if (parallelizationFactor !== 1 && app.exactlyOnce === ExactlyOnceMode.Checkpoint && app.sources.kinesisStreams.includes(source)) {
    throw optionsError(
      COMPONENT,
      `option "parallelizationFactor" must be 1 for Kinesis stream ${source}: app "${app.name}" applies effects exactly once ` +
        `with a checkpoint per shard (exactlyOnce: 'checkpoint'), which needs one batch of a shard at a time; got ${parallelizationFactor}`,
    );
  }
  const filters: readonly FilterPattern[] = settings.filters[source] ?? [];
  return {
    batchSize: options.batchSize ?? settings.batchSize,
    startingPosition: options.startingPosition ?? startingPosition(settings.startingPosition),
    maxBatchingWindow: options.maxBatchingWindow ?? Duration.seconds(settings.maxBatchingWindowSeconds),
    retryAttempts: options.retryAttempts ?? settings.retryAttempts,
    bisectBatchOnError: options.bisectBatchOnError ?? settings.bisectBatchOnError,
    maxRecordAge: options.maxRecordAge ?? Duration.seconds(settings.maxRecordAgeSeconds),
    parallelizationFactor,
    reportBatchItemFailures: options.reportBatchItemFailures ?? true,
    onFailure,
    ...(filters.length > 0 && { filters: filters.map((pattern) => lambda.FilterCriteria.filter({ ...pattern })) }),
    ...((options.eventCountMetrics ?? true) && { metricsConfig: { metrics: [lambda.MetricType.EVENT_COUNT] } }),
  };
}
