/**
 * An app's handler: its processors, its sinks (by default the exactly-once DynamoDB sink for its outputs and a log
 * sink), the fault sink the environment names, and one logger shared by the pipeline, the sinks and the handler, which
 * publishes the metrics; logs and metrics carry the app's name as their service.
 */
import { createHandler } from '../runtime/handler';
import { createLogger } from '../runtime/logging';
import { definePipeline } from '../runtime/pipeline';
import type { EffectBase, FaultSink, Sink, StreamHandler } from '../runtime/types';
import { DynamoDBSink } from '../sinks/dynamodb';
import { DynamoDBFaultSink } from '../sinks/dynamodb-faults';
import { FileFaultSink } from '../sinks/file-faults';
import { LogSink } from '../sinks/log';
import type { AppDefinition, AppEnvironment, AppSpec, SinkContext } from './types';

function faultSinkFor(app: Pick<AppDefinition, 'faultTable'>, environment: AppEnvironment): FaultSink {
  const faults = environment.faults;
  if (faults !== undefined && 'file' in faults) return new FileFaultSink({ path: faults.file });
  return new DynamoDBFaultSink({ client: environment.dynamodb, table: faults?.table ?? app.faultTable });
}

function defaultSinks(app: Pick<AppDefinition, 'name' | 'outputs' | 'markerTable' | 'exactlyOnce'>, environment: AppEnvironment, { logger }: SinkContext): Sink<EffectBase>[] {
  const sinks: Sink<EffectBase>[] = [];
  if (app.markerTable !== undefined) {
    sinks.push(
      new DynamoDBSink({
        client: environment.dynamodb,
        markerTable: environment.markerTable ?? app.markerTable,
        // The name is also the marker scope: apps sharing the marker table never skip each other's records.
        name: `${app.name}-dynamodb`,
        tables: app.outputs.map((table) => table.TableName as string),
        exactlyOnce: app.exactlyOnce,
        logger,
      }) as Sink<EffectBase>,
    );
  }
  sinks.push(new LogSink({ logger, name: `${app.name}-log` }) as Sink<EffectBase>);
  return sinks;
}

export function buildAppHandler<E extends EffectBase>(
  app: Omit<AppDefinition, 'createHandler'>,
  spec: Pick<AppSpec<E>, 'processors' | 'sinks' | 'pipeline'>,
  environment: AppEnvironment,
): StreamHandler {
  const logger = createLogger({ serviceName: app.name });
  const sinks = spec.sinks === undefined ? (defaultSinks(app, environment, { logger }) as Sink<E>[]) : spec.sinks(environment, { logger });
  const pipeline = definePipeline<E>({
    processors: spec.processors,
    sinks,
    faultSink: faultSinkFor(app, environment),
    options: { ...spec.pipeline, logger },
  });
  return createHandler(pipeline, { serviceName: app.name, logger });
}
