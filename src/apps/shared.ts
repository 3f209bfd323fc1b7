/**
 * Wiring every app shares: the sink-owned tables (dedupe markers, faults), the fault sink chosen by the
 * environment, and `defineApp`, the pipeline -> handler glue with one logger and one metrics object per app.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createHandler } from '../runtime/handler';
import { createLogger } from '../runtime/logging';
import { METRICS_NAMESPACE, addSinkMetrics } from '../runtime/metrics';
import { definePipeline } from '../runtime/pipeline';
import type { Effect, FaultSink, Processor, Sink } from '../runtime/types';
import { DynamoDBSink, MARKER_TTL_ATTRIBUTE, markerTableDefinition } from '../sinks/dynamodb';
import { DynamoDBFaultSink, FileFaultSink, faultTableDefinition } from '../sinks/faults';
import { LogSink } from '../sinks/log';
import type { AppDefinition, AppEnvironment, StreamHandler, TableDefinition } from './types';

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

/** An app's definition with its processors in place of the handler factory `defineApp` builds from them. */
type AppSpec = Omit<AppDefinition, 'createHandler'> & {
  /** The app's processors, made for each handler it builds. */
  readonly processors: () => readonly Processor<Effect>[];
};

/**
 * An app whose handler runs its processors with an idempotent DynamoDB sink for its output tables (none: no
 * DynamoDB sink), a log sink (for the logger processors and for processor warnings), and the fault sink the
 * environment names.
 */
export function defineApp(spec: AppSpec): AppDefinition {
  const { processors, ...definition } = spec;
  return { ...definition, createHandler: (environment) => buildHandler(definition, processors(), environment) };
}

function buildHandler(
  { name: app, outputTables }: Pick<AppDefinition, 'name' | 'outputTables'>,
  processors: readonly Processor<Effect>[],
  environment: AppEnvironment,
): StreamHandler {
  const logger = createLogger({ serviceName: app });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: app });
  const sinks: Sink<Effect>[] = [new LogSink({ logger, name: `${app}-log` })];
  if (outputTables.length > 0) {
    sinks.unshift(
      new DynamoDBSink({
        client: environment.dynamodb,
        markerTable: MARKER_TABLE,
        // The name is also the marker scope: apps sharing the marker table never skip each other's records.
        name: `${app}-dynamodb`,
        tables: outputTables,
        onMetrics: (sinkMetrics) => addSinkMetrics(metrics, sinkMetrics),
      }),
    );
  }
  const pipeline = definePipeline<Effect>({
    processors,
    sinks,
    faultSink: faultSinkFor(environment),
    options: { logger },
  });
  return createHandler(pipeline, { serviceName: app, logger, metrics });
}
