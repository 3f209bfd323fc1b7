/**
 * The alarms of one deployed app: a shard falling behind, batches given up on, records acknowledged into the fault
 * table, whole batches failing, and sinks failing records. Each says what it means and where to look.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Statistic } from '../dashboard/definition';
import { LambdaMetricName } from '../dashboard/lambda-metrics';
import { MetricName, SinkMetricName } from '../runtime/metrics';
import { METRIC_PERIOD, handlerMetric, type DeployedApp } from './app-metrics';

export interface AlarmOptions {
  /**
   * Where alarm and back-to-OK notifications go.
   * @default no actions (the alarms still show in CloudWatch)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Lambda's iterator age above which, for five minutes in a row, the app is falling behind its streams.
   * @default Duration.minutes(1)
   */
  readonly iteratorAgeThreshold?: Duration;
}

/** The app's alarms, by what they watch. */
export interface AppAlarms {
  readonly iteratorAge: cloudwatch.Alarm;
  readonly onFailureQueue: cloudwatch.Alarm;
  readonly recordsFaulted: cloudwatch.Alarm;
  readonly errors: cloudwatch.Alarm;
  readonly sinkFailures: cloudwatch.Alarm;
  readonly deploymentErrors: cloudwatch.Alarm;
}

/** Minutes of high iterator age before it alarms: one slow batch is not a blocked shard. */
const ITERATOR_AGE_MINUTES = 5;

export function appAlarms(scope: Construct, app: DeployedApp, onFailureQueue: sqs.IQueue, options: AlarmOptions): AppAlarms {
  const alarms = new Construct(scope, 'Alarms');
  const sum = { statistic: Statistic.Sum, period: METRIC_PERIOD };
  const countAboveZero = (id: string, metric: cloudwatch.IMetric, description: string) =>
    new cloudwatch.Alarm(alarms, id, {
      metric,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data means no traffic, not a problem.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `${app.service}: ${description}`,
    });
  const iteratorAgeThreshold = options.iteratorAgeThreshold ?? Duration.minutes(1);
  const created: AppAlarms = {
    iteratorAge: new cloudwatch.Alarm(alarms, 'IteratorAge', {
      metric: app.function.metric(LambdaMetricName.IteratorAge, { statistic: Statistic.Maximum, period: METRIC_PERIOD }),
      threshold: iteratorAgeThreshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: ITERATOR_AGE_MINUTES,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `${app.service}: records wait more than ${iteratorAgeThreshold.toHumanString()} for ${ITERATOR_AGE_MINUTES} minutes; ` +
        'a shard may be blocked by a failing batch, or the function is too slow for its traffic.',
    }),
    onFailureQueue: countAboveZero(
      'OnFailureQueue',
      onFailureQueue.metricApproximateNumberOfMessagesVisible({ statistic: Statistic.Maximum, period: METRIC_PERIOD }),
      'batches ran out of retries or expired; their on-failure records (shard and sequence numbers, no data) are in the on-failure queue.',
    ),
    recordsFaulted: countAboveZero(
      'RecordsFaulted',
      handlerMetric(app, MetricName.RecordsFaulted, sum),
      'records failed permanently and were acknowledged into the fault table; list and redrive them from there.',
    ),
    errors: countAboveZero(
      'Errors',
      app.function.metric(LambdaMetricName.Errors, sum),
      'invocations failed as a whole (an error thrown, a timeout or a crash); Lambda retries the entire batch.',
    ),
    sinkFailures: countAboveZero(
      'SinkFailures',
      handlerMetric(app, SinkMetricName.RecordsFailed, sum),
      'sinks could not apply some records (throttling past the retries, or refused writes); they are retried or captured as faults.',
    ),
    deploymentErrors: countAboveZero(
      'DeploymentErrors',
      handlerMetric(app, MetricName.DeploymentErrors, sum),
      'batches failed because of the deployment (a missing table, no permission, an unknown endpoint); the records are retried, none is faulted: fix the deployment.',
    ),
  };
  if (options.alarmTopic !== undefined) {
    const action = new actions.SnsAction(options.alarmTopic);
    for (const alarm of Object.values(created)) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
  return created;
}
