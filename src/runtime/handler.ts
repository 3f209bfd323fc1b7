/**
 * The Lambda handler factory: a pipeline becomes a handler for Kinesis or DynamoDB stream events that returns
 * a partial batch response, logs structured lines and publishes EMF metrics (the batch's and its sinks') once per
 * invocation.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBStreamEvent,
  Handler,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
} from 'aws-lambda';
import { ErrorCode, ShardflowError, errorMessage, isShardflowError } from './errors';
import { createLogger, defaultLogger, resolveServiceName, type HandlerLogger } from './logging';
import { EmfWriter, METRICS_NAMESPACE, MetricName, MetricUnit, addBatchMetrics, addSinkMetrics, lastArrivalTime } from './metrics';
import { localInvocationOf } from './local-invocation';
import { resolveOptions } from './options';
import { lendLogger, type Pipeline } from './pipeline';
import type { BatchOutcome, BatchStats } from './batch-outcome';
import type { SinkCounts, StreamEvent, StreamHandler } from './types';

/** A handler for a Kinesis event source mapping with ReportBatchItemFailures. */
export type KinesisBatchHandler = Handler<KinesisStreamEvent, KinesisStreamBatchResponse>;
/** A handler for a DynamoDB Streams event source mapping with ReportBatchItemFailures. */
export type DynamoDBBatchHandler = Handler<DynamoDBStreamEvent, DynamoDBBatchResponse>;

export interface HandlerOptions {
  /**
   * Service name: the `service` key of log lines and the `service` dimension of metrics.
   * Ignored for the logger or metrics you pass in yourself.
   * @default process.env.POWERTOOLS_SERVICE_NAME, else 'shardflow'
   * @example { serviceName: 'checkout' }
   */
  readonly serviceName?: string;
  /**
   * Structured logger, e.g. a Powertools `Logger`. A pipeline built without a logger logs through this one too, so
   * its record failures carry the handler's service name and the Lambda context.
   * @default the shared logger of `defaultLogger()` (or a new one named `serviceName` when that is given)
   */
  readonly logger?: HandlerLogger;
  /**
   * A Powertools `Metrics` for the batch metrics, when they should carry your namespace, dimensions or metadata;
   * flushed at the end of every invocation.
   * @default shardflow's own EMF line on stdout, namespace 'shardflow', dimension `service`: the document Powertools
   * writes, written in a seventh of the time (see `EmfWriter`)
   */
  readonly metrics?: Metrics;
  /**
   * Also log one INFO line per batch with its counts. The EMF line already carries them; the summary line costs
   * about as much again as the metrics (a seventh of a hand loop's time on 100 small records).
   * @default false
   */
  readonly logBatchSummary?: boolean;
}

const DEFAULT_HANDLER_OPTIONS: HandlerOptions & { readonly logBatchSummary: boolean } = {
  serviceName: undefined,
  logger: undefined,
  metrics: undefined,
  logBatchSummary: false,
} satisfies { [K in keyof Required<HandlerOptions>]: HandlerOptions[K] };

function isLambdaContext(context: unknown): context is Context {
  return (
    typeof context === 'object' &&
    context !== null &&
    typeof (context as Partial<Context>).awsRequestId === 'string' &&
    typeof (context as Partial<Context>).functionName === 'string'
  );
}

/**
 * Turns a pipeline into a Lambda handler. Record failures become the partial batch response; an error of the
 * pipeline itself (a bug, an event that is not a stream event) propagates, so Lambda retries the whole batch.
 *
 * @example
 * const pipeline = definePipeline({ processors: [paidTotals], sinks: [dynamoSink], faultSink });
 * export const handler = createHandler(pipeline, { serviceName: 'checkout' });
 */
export function createHandler(pipeline: Pipeline, options: HandlerOptions = {}): StreamHandler {
  if (pipeline === null || typeof pipeline !== 'object' || typeof pipeline.run !== 'function') {
    throw new ShardflowError(ErrorCode.InvalidOptions, 'createHandler needs a pipeline made by definePipeline().');
  }
  const resolved = resolveOptions('createHandler', options, DEFAULT_HANDLER_OPTIONS);
  // Resolved here, once, so metrics carry the service logs carry (Metrics alone would say "service_undefined").
  const serviceName = resolveServiceName(resolved.serviceName);
  const logger = resolved.logger ?? (resolved.serviceName === undefined ? defaultLogger() : createLogger({ serviceName }));
  const metrics = resolved.metrics === undefined ? new EmfWriter(METRICS_NAMESPACE, serviceName) : new PowertoolsPublisher(resolved.metrics);
  lendLogger(pipeline, logger);
  const logBatchSummary = resolved.logBatchSummary;

  return async (event: StreamEvent, context: Context) => {
    if (isLambdaContext(context)) logger.addContext(context);
    let outcome: BatchOutcome;
    try {
      outcome = await pipeline.run(event, context);
    } catch (error) {
      const records: unknown = (event as { Records?: unknown } | null)?.Records;
      metrics.publishBatchError(Array.isArray(records) ? records.length : 0, isShardflowError(error) && error.code === ErrorCode.DeploymentError);
      logger.error('Batch failed as a whole; Lambda will retry all of it', {
        error: { code: isShardflowError(error) ? error.code : ErrorCode.Unexpected, message: errorMessage(error) },
      });
      throw error;
    }
    const local = localInvocationOf(context);
    const arrival = lastArrivalTime(event);
    const iteratorAgeMs = arrival === undefined ? undefined : (local?.now() ?? Date.now()) - arrival;
    metrics.publishBatch(outcome.stats, outcome.sinkCounts, iteratorAgeMs);
    local?.onBatch({ stats: outcome.stats, sinkCounts: outcome.sinkCounts, iteratorAgeMs });
    if (logBatchSummary) logger.info('Batch processed', { stats: outcome.stats });
    return outcome.response;
  };
}

/** The batch metrics through a Powertools `Metrics` the user gave. */
class PowertoolsPublisher {
  constructor(private readonly metrics: Metrics) {}

  publishBatch(stats: BatchStats, sinkCounts: SinkCounts, iteratorAgeMs: number | undefined): void {
    addBatchMetrics(this.metrics, stats, iteratorAgeMs);
    addSinkMetrics(this.metrics, sinkCounts);
    this.metrics.publishStoredMetrics();
  }

  publishBatchError(recordsIn: number, deployment: boolean): void {
    this.metrics.addMetric(MetricName.BatchErrors, MetricUnit.Count, 1);
    if (deployment) this.metrics.addMetric(MetricName.DeploymentErrors, MetricUnit.Count, 1);
    this.metrics.addMetric(MetricName.RecordsIn, MetricUnit.Count, recordsIn);
    this.metrics.publishStoredMetrics();
  }
}
