/**
 * `shardflow/cdk`: deploy an app with the AWS CDK. `ShardflowApp` makes its function, event source mappings on the
 * existing streams, the tables it owns, least-privilege grants, alarms and its dashboard; `ShardflowHttpApi` puts an
 * app's HTTP routes behind API Gateway. Needs aws-cdk-lib, constructs and esbuild (optional peer dependencies).
 */
export { ShardflowApp } from './shardflow-app';
export type { ShardflowAppProps } from './shardflow-app';
export { ShardflowHttpApi } from './shardflow-http-api';
export type { HttpTableAccess, ShardflowHttpApiProps } from './shardflow-http-api';
export type { FunctionOptions } from './function-options';
export type { MappingOptions } from './mapping-options';
export type { ShardflowSources } from './sources';
export type { AlarmOptions, AppAlarms } from './app-alarms';
export type { DeployedMapping } from './app-metrics';
export { SinkTableAccess } from './table-access';
export type { TableAccess } from './table-access';
export { DASHBOARD_WIDGETS, MetricSource, Statistic } from '../dashboard/definition';
export type { DashboardMetric, DashboardWidget, MetricBase } from '../dashboard/definition';
export { EventSourceMappingMetricName, LAMBDA_NAMESPACE, LambdaMetricName } from '../dashboard/lambda-metrics';
