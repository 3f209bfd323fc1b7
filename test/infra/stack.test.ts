import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { seedApps } from '../../src/seed';
import { ShardflowStack } from '../../infra/stack';

describe('the CDK stack', () => {
  // Inline code stands in for the esbuild bundle (dist-lambda/), which the test does not build.
  const app = new App();
  const stack = new ShardflowStack(app, 'Test', {
    apps: seedApps,
    code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
  });
  const template = Template.fromStack(stack);

  it('creates every table the apps name, with the streams the seeds use', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'GameScoreRecords',
      KeySchema: [{ AttributeName: 'RecordID', KeyType: 'HASH' }],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'Orders',
      KeySchema: [
        { AttributeName: 'Id', KeyType: 'HASH' },
        { AttributeName: 'Amount', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamViewType: 'KEYS_ONLY' },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'ShardflowMarkers',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    template.hasResourceProperties('AWS::Kinesis::Stream', { Name: 'Lab-Stream' });
  });

  it('maps each consumed stream with partial batch responses, bisection, bounded retries and an on-failure queue', () => {
    const mappings = template.findResources('AWS::Lambda::EventSourceMapping');
    // GameScoreRecords + GameScoreEvents (scores), PageViews (tags), Orders, Lab-Stream.
    expect(Object.keys(mappings)).toHaveLength(5);
    for (const mapping of Object.values(mappings)) {
      expect(mapping.Properties).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 5,
        MaximumRecordAgeInSeconds: 86400,
        DestinationConfig: { OnFailure: { Destination: expect.anything() } },
      });
    }
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 1, StartingPosition: 'LATEST' });
  });

  it('deploys one function per app plus the tags HTTP API', () => {
    for (const handler of ['scoresHandler', 'tagsHandler', 'ordersHandler', 'kinesisLogHandler', 'tagsHttpHandler']) {
      template.hasResourceProperties('AWS::Lambda::Function', { Handler: `index.${handler}`, Runtime: 'nodejs22.x' });
    }
    template.resourceCountIs('AWS::ApiGateway::Method', 2);
  });

  it('alarms on iterator age and on records sent to the on-failure queue, per app', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', seedApps.length * 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 60000 });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
