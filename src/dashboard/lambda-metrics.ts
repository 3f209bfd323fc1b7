/**
 * Metrics Lambda publishes itself (namespace `AWS/Lambda`): the function's, by `FunctionName`, and an event source
 * mapping's, by `EventSourceMappingUUID` once its `MetricsConfig` has `EventCount`. They reach CloudWatch only,
 * never the function's logs.
 */

export const LAMBDA_NAMESPACE = 'AWS/Lambda';

/** The function's metrics the dashboard and the alarms use. */
export const LambdaMetricName = {
  Invocations: 'Invocations',
  /** Invocations that threw, timed out or crashed: for a stream function, a whole batch to retry. */
  Errors: 'Errors',
  Throttles: 'Throttles',
  Duration: 'Duration',
  ConcurrentExecutions: 'ConcurrentExecutions',
  /** Age of a batch's last record when Lambda read it: how far the function lags behind its stream. */
  IteratorAge: 'IteratorAge',
} as const;
export type LambdaMetricName = (typeof LambdaMetricName)[keyof typeof LambdaMetricName];

/** An event source mapping's `EventCount` metrics. */
export const EventSourceMappingMetricName = {
  Polled: 'PolledEventCount',
  FilteredOut: 'FilteredOutEventCount',
  Invoked: 'InvokedEventCount',
  FailedInvoke: 'FailedInvokeEventCount',
  /** Records dropped after retries ran out or past the maximum record age. */
  Dropped: 'DroppedEventCount',
  OnFailureDestinationDelivered: 'OnFailureDestinationDeliveredEventCount',
} as const;
export type EventSourceMappingMetricName = (typeof EventSourceMappingMetricName)[keyof typeof EventSourceMappingMetricName];
