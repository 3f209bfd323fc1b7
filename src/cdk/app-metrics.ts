/**
 * The CloudWatch metrics of one deployed app: its handler's (EMF, by service), its function's and its mappings'.
 * The dashboard and the alarms both read them from here.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { MetricSource, type DashboardMetric } from '../dashboard/definition';
import { LAMBDA_NAMESPACE } from '../dashboard/lambda-metrics';
import { METRICS_NAMESPACE, type MetricName, type SinkMetricName } from '../runtime/metrics';

/** One event source mapping, named by its source. */
export interface DeployedMapping {
  readonly source: string;
  readonly eventSourceMappingId: string;
}

export interface DeployedApp {
  /** The app's name: the `service` dimension of its EMF metrics. */
  readonly service: string;
  readonly function: lambda.IFunction;
  readonly mappings: readonly DeployedMapping[];
}

/** CloudWatch aggregates alarms and graphs over one-minute periods unless told otherwise. */
export const METRIC_PERIOD = Duration.minutes(1);

/** A metric the app's handler publishes (EMF), by its service. */
export function handlerMetric(app: DeployedApp, name: MetricName | SinkMetricName, options: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { service: app.service }, ...options });
}

/** The CloudWatch metrics behind one dashboard metric: one for the app and its function, one per mapping. */
export function cloudWatchMetrics(app: DeployedApp, metric: DashboardMetric): cloudwatch.IMetric[] {
  const common = { statistic: metric.statistic, period: METRIC_PERIOD };
  switch (metric.source) {
    case MetricSource.Shardflow:
      return [handlerMetric(app, metric.name, { label: metric.label, ...common })];
    case MetricSource.Function:
      return [app.function.metric(metric.name, { label: metric.label, ...common })];
    case MetricSource.EventSourceMapping:
      return app.mappings.map(
        (mapping) =>
          new cloudwatch.Metric({
            namespace: LAMBDA_NAMESPACE,
            metricName: metric.name,
            dimensionsMap: { EventSourceMappingUUID: mapping.eventSourceMappingId },
            label: app.mappings.length === 1 ? metric.label : `${metric.label} (${mapping.source})`,
            ...common,
          }),
      );
  }
}
