import { Duration, type Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExactlyOnceMode, LambdaEnvironment } from '../../src';
import { DASHBOARD_WIDGETS, LAMBDA_NAMESPACE, MetricSource } from '../../src/cdk';
import { METRICS_NAMESPACE } from '../../src/runtime/metrics';
import { CARTS, CHECKOUT_EVENTS, checkoutApp } from './checkout/app';
import { CARTS_STREAM_ARN, CHECKOUT_EVENTS_ARN, checkoutStack, type CheckoutOverrides } from './checkout-stack';
import { dashboardMetrics, nagViolations, policyStatements, resourceIdOf } from './template-helpers';

describe('ShardflowApp with a user app on existing sources', () => {
  const { stack, deployed, topic } = checkoutStack();
  const template = Template.fromStack(stack);

  it('maps the existing stream and table with safe defaults, the app\'s batch size and filters, and the mapping\'s metrics', () => {
    const common = {
      BatchSize: 50,
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 86_400,
      ParallelizationFactor: 1,
      MetricsConfig: { Metrics: ['EventCount'] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [resourceIdOf(stack, deployed.onFailureQueue), 'Arn'] } } },
    };
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ...common,
      EventSourceArn: CARTS_STREAM_ARN,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT', 'MODIFY'] }) }] },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ...common,
      EventSourceArn: CHECKOUT_EVENTS_ARN,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ data: { status: ['paid'] } }) }] },
    });
  });

  it('creates what the app owns and never its sources', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    // CustomerTotals and CartsPerDay under their names, the marker and fault tables under CloudFormation's.
    template.resourceCountIs('AWS::DynamoDB::Table', 4);
    for (const name of ['CustomerTotals', 'CartsPerDay']) {
      template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: name, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
    }
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: Match.absent(), TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: Duration.days(14).toSeconds() });
  });

  it('runs the named export on Node.js 24 and tells it where its marker and fault tables are', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.checkoutHandler',
      Runtime: 'nodejs24.x',
      MemorySize: 512,
      Timeout: 60,
      Environment: {
        Variables: {
          [LambdaEnvironment.FaultTable]: { Ref: resourceIdOf(stack, deployed.faultTable) },
          [LambdaEnvironment.MarkerTable]: { Ref: resourceIdOf(stack, deployed.markerTable as dynamodb.ITable) },
        },
      },
    });
  });

  it('grants only what the sinks and the mappings call, each action on its own table', () => {
    const byResource = policyStatements(template, deployed.lambdaFunction);
    const table = (name: string) => `arn:${resourceIdOf(stack, deployed.tables.get(name) as dynamodb.ITable)}`;
    const inTransactions = { 'ForAnyValue:StringEquals': { 'dynamodb:EnclosingOperation': ['TransactWriteItems'] } };
    expect(byResource.get(table('CustomerTotals'))).toEqual([{ actions: ['dynamodb:UpdateItem'], conditions: inTransactions }]);
    expect(byResource.get(table('CartsPerDay'))).toEqual([{ actions: ['dynamodb:UpdateItem'], conditions: inTransactions }]);
    expect(byResource.get(`arn:${resourceIdOf(stack, deployed.markerTable as dynamodb.ITable)}`)).toEqual([{ actions: ['dynamodb:PutItem'], conditions: inTransactions }]);
    expect(byResource.get(`arn:${resourceIdOf(stack, deployed.faultTable)}`)).toEqual([{ actions: ['dynamodb:BatchWriteItem'] }]);
    expect(byResource.get(CARTS_STREAM_ARN)).toEqual([{ actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] }]);
    expect(byResource.get(CHECKOUT_EVENTS_ARN)?.flatMap((statement) => statement.actions).every((action) => action.startsWith('kinesis:'))).toBe(true);
    // The one wildcard resource: CDK's own, for an action without resource-level permissions.
    expect(byResource.get('*')).toEqual([{ actions: ['dynamodb:ListStreams'] }]);
    const actions = [...byResource.values()].flat().flatMap((statement) => statement.actions);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    expect(actions.filter((action) => /Scan|Query|Delete|Describe(Table|TimeToLive)|^dynamodb:GetItem$/.test(action))).toEqual([]);
  });

  it('alarms on iterator age, the on-failure queue, faults, Lambda errors, sink failures and deployment errors, notifying the topic', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const watched = Object.values(alarms).map((alarm) => `${alarm.Properties.Namespace}/${alarm.Properties.MetricName}`);
    expect(watched.sort()).toEqual(
      [
        `${LAMBDA_NAMESPACE}/IteratorAge`,
        'AWS/SQS/ApproximateNumberOfMessagesVisible',
        `${METRICS_NAMESPACE}/RecordsFaulted`,
        `${LAMBDA_NAMESPACE}/Errors`,
        `${METRICS_NAMESPACE}/SinkRecordsFailed`,
        `${METRICS_NAMESPACE}/DeploymentErrors`,
      ].sort(),
    );
    const topicRef = { Ref: resourceIdOf(stack, topic) };
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties).toMatchObject({ AlarmActions: [topicRef], OKActions: [topicRef], TreatMissingData: 'notBreaching' });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RecordsFaulted', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Dimensions: [{ Name: 'service', Value: 'checkout' }] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 60_000, EvaluationPeriods: 5 });
  });

  it('renders the shared dashboard definition: every widget, every metric, each mapping\'s metrics by its UUID', () => {
    const rendered = dashboardMetrics(template);
    expect(rendered.map((widget) => widget.title)).toEqual(DASHBOARD_WIDGETS.map((widget) => `checkout: ${widget.title}`));
    DASHBOARD_WIDGETS.forEach((widget, index) => {
      const expected = widget.metrics.flatMap((metric) => {
        if (metric.source === MetricSource.Shardflow) return [`${METRICS_NAMESPACE}/${metric.name}/service`];
        if (metric.source === MetricSource.Function) return [`${LAMBDA_NAMESPACE}/${metric.name}/FunctionName`];
        return [CARTS, CHECKOUT_EVENTS].map(() => `${LAMBDA_NAMESPACE}/${metric.name}/EventSourceMappingUUID`);
      });
      expect(rendered[index]?.metrics).toEqual(expected);
    });
  });

  it('passes cdk-nag\'s AwsSolutions checks and carries no warning', () => {
    expect(nagViolations(new AwsSolutionsChecks().validateScope(stack))).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('ShardflowApp overrides', () => {
  it('takes mapping settings, an existing queue and existing tables, and then creates none of them', () => {
    let queue: sqs.IQueue | undefined;
    const { stack: overridden } = checkoutStack((stack) => {
      queue = new sqs.Queue(stack, 'OwnQueue', { enforceSSL: true });
      return {
        onFailureQueue: queue,
        tables: { CustomerTotals: dynamodb.Table.fromTableName(stack, 'OwnTotals', 'CustomerTotals') },
        mapping: { batchSize: 7, parallelizationFactor: 4, retryAttempts: 2, maxRecordAge: Duration.hours(2), startingPosition: lambda.StartingPosition.LATEST, eventCountMetrics: false },
        memorySize: 1024,
        timeout: Duration.seconds(30),
        reservedConcurrentExecutions: 3,
        environment: { STAGE: 'test' },
      };
    });
    const template = Template.fromStack(overridden);
    template.allResourcesProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 7,
      ParallelizationFactor: 4,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 7200,
      StartingPosition: 'LATEST',
      MetricsConfig: Match.absent(),
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [resourceIdOf(overridden, queue as sqs.IQueue), 'Arn'] } } },
    });
    // The queue the test made, and CartsPerDay, the marker and the fault tables.
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 3);
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1024,
      Timeout: 30,
      ReservedConcurrentExecutions: 3,
      Environment: { Variables: Match.objectLike({ STAGE: 'test' }) },
    });
  });

  it('keeps ParallelizationFactor 1 on the Kinesis streams of an app in checkpoint mode, and lets it advance its checkpoints', () => {
    const checkpointApp = { ...checkoutApp, exactlyOnce: ExactlyOnceMode.Checkpoint };
    expect(() => checkoutStack({ app: checkpointApp, mapping: { parallelizationFactor: 2 } })).toThrow(
      /option "parallelizationFactor" must be 1 for Kinesis stream checkout-events: app "checkout" applies effects exactly once with a checkpoint per shard/,
    );
    const { stack, deployed } = checkoutStack({ app: checkpointApp });
    const template = Template.fromStack(stack);
    template.allResourcesProperties('AWS::Lambda::EventSourceMapping', { ParallelizationFactor: 1 });
    const inTransactions = { 'ForAnyValue:StringEquals': { 'dynamodb:EnclosingOperation': ['TransactWriteItems'] } };
    expect(policyStatements(template, deployed.lambdaFunction).get(`arn:${resourceIdOf(stack, deployed.markerTable as dynamodb.ITable)}`)).toEqual([
      { actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], conditions: inTransactions },
    ]);
  });

  it('grants nothing on the outputs of an app with its own sinks: it cannot know what they call', () => {
    const customSinks = { ...checkoutApp, markerTable: undefined, tables: checkoutApp.tables.filter((table) => table.TableName !== checkoutApp.markerTable) };
    const { stack, deployed } = checkoutStack({ app: customSinks });
    const byResource = policyStatements(Template.fromStack(stack), deployed.lambdaFunction);
    expect(byResource.has(`arn:${resourceIdOf(stack, deployed.tables.get('CustomerTotals') as dynamodb.ITable)}`)).toBe(false);
    expect(deployed.markerTable).toBeUndefined();
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [LambdaEnvironment.FaultTable]: Match.anyValue(), [LambdaEnvironment.MarkerTable]: Match.absent() } },
    });
  });

  it.each([
    ['a runtime older than Node.js 22', { runtime: lambda.Runtime.NODEJS_20_X }, /Node.js 22 or later, got nodejs20.x/],
    ['a handler that is not an export name', { handler: 'index.checkoutHandler' }, /name of an export of the entry/],
    ['an environment variable the construct sets', { environment: { [LambdaEnvironment.FaultTable]: 'x' } }, /SHARDFLOW_FAULT_TABLE, which the construct sets itself/],
    ['a missing source', { sources: { kinesisStreams: { [CHECKOUT_EVENTS]: CHECKOUT_EVENTS_ARN } } }, /sources.tables" is missing Carts/],
    ['a source the app does not consume', { sources: { tables: { [CARTS]: CARTS_STREAM_ARN, Orders: CARTS_STREAM_ARN }, kinesisStreams: { [CHECKOUT_EVENTS]: CHECKOUT_EVENTS_ARN } } }, /names Orders, which the app does not consume/],
    ['a source deployed under another name', { sources: { tables: { [CARTS]: CARTS_STREAM_ARN }, kinesisStreams: { [CHECKOUT_EVENTS]: CHECKOUT_EVENTS_ARN.replace(CHECKOUT_EVENTS, 'orders') } } }, /select records by the name checkout-events/],
    ['a table stream ARN that is not one', { sources: { tables: { [CARTS]: 'Carts' }, kinesisStreams: { [CHECKOUT_EVENTS]: CHECKOUT_EVENTS_ARN } } }, /not a DynamoDB stream ARN/],
    ['a table the app does not own', (stack: Stack) => ({ tables: { Orders: dynamodb.Table.fromTableName(stack, 'Orders', 'Orders') } }), /names Orders, which the app does not own/],
    ['a parallelization factor above 10', { mapping: { parallelizationFactor: 11 } }, /parallelizationFactor" must be an integer from 1 to 10/],
  ] as [string, CheckoutOverrides, RegExp][])('refuses %s with an error that says why', (_case, overrides, message) => {
    expect(() => checkoutStack(overrides)).toThrow(message);
  });
});
