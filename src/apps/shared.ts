/**
 * Wiring every app shares: the sink-owned tables (dedupe markers, faults), the fault sink chosen by the
 * environment, and the pipeline -> handler glue with one logger and one metrics object per app.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createHandler } from '../runtime/handler';
import { createLogger } from '../runtime/logging';
import { METRICS_NAMESPACE, SinkMetricName } from '../runtime/metrics';
import { definePipeline } from '../runtime/pipeline';
import type { Effect, FaultSink, Processor, Sink } from '../runtime/types';
import { DynamoDBSink, MARKER_TTL_ATTRIBUTE, markerTableDefinition, type DynamoDBSinkMetrics } from '../sinks/dynamodb';
import { DynamoDBFaultSink, FileFaultSink, faultTableDefinition } from '../sinks/faults';
import { LogSink } from '../sinks/log';
import type { AppEnvironment, AppName, StreamHandler, TableDefinition } from './types';

/** The table of the DynamoDB sinks' dedupe markers, shared by the apps (each app's sink has its own scope). */
export const MARKER_TABLE = 'ShardflowMarkers';
/** Where the apps keep captured faults unless the environment says otherwise. */
export const FAULT_TABLE = 'ShardflowFaults';

export const markerTable: TableDefinition = {
  ...markerTableDefinition(MARKER_TABLE),
  // Markers only need to outlive re-deliveries; TTL lets DynamoDB drop them afterwards.
  timeToLiveAttribute: MARKER_TTL_ATTRIBUTE,
};

export const faultTable: TableDefinition = faultTableDefinition(FAULT_TABLE);

function faultSinkFor(environment: AppEnvironment): FaultSink {
  const faults = environment.faults;
  if (faults !== undefined && 'file' in faults) return new FileFaultSink({ path: faults.file });
  return new DynamoDBFaultSink({ client: environment.dynamodb, table: faults?.table ?? FAULT_TABLE });
}

export interface AppWiring {
  readonly app: AppName;
  readonly environment: AppEnvironment;
  readonly processors: readonly Processor<Effect>[];
  /** Tables the app's idempotent DynamoDB sink writes; none means the app has no DynamoDB sink. */
  readonly outputTables: readonly string[];
}

/**
 * Builds an app's handler: its processors, an idempotent DynamoDB sink for its output tables, a log sink (for the
 * logger processors and for processor warnings), and the fault sink the environment names.
 */
export function buildHandler(wiring: AppWiring): StreamHandler {
  const { app, environment } = wiring;
  const logger = createLogger({ serviceName: app });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: app });
  const publish = (sinkMetrics: DynamoDBSinkMetrics): void => {
    metrics.addMetric(SinkMetricName.Requests, MetricUnit.Count, sinkMetrics.requests);
    metrics.addMetric(SinkMetricName.ConsumedWriteCapacity, MetricUnit.Count, sinkMetrics.consumedCapacityUnits);
    metrics.addMetric(SinkMetricName.DuplicatesSkipped, MetricUnit.Count, sinkMetrics.duplicatesSkipped);
    metrics.addMetric(SinkMetricName.Retries, MetricUnit.Count, sinkMetrics.retries);
  };
  const sinks: Sink<Effect>[] = [new LogSink({ logger, name: `${app}-log` })];
  if (wiring.outputTables.length > 0) {
    sinks.unshift(
      new DynamoDBSink({
        client: environment.dynamodb,
        markerTable: MARKER_TABLE,
        // The name is also the marker scope: apps sharing the marker table never skip each other's records.
        name: `${app}-dynamodb`,
        tables: wiring.outputTables,
        onMetrics: publish,
      }),
    );
  }
  const pipeline = definePipeline<Effect>({
    processors: wiring.processors,
    sinks,
    faultSink: faultSinkFor(environment),
    options: { logger },
  });
  return createHandler(pipeline, { serviceName: app, logger, metrics });
}
