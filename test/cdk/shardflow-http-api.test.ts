import { Template } from 'aws-cdk-lib/assertions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ShardflowHttpApi } from '../../src/cdk';
import { CHECKOUT_ENTRY, checkoutStack } from './checkout-stack';
import { checkoutApp } from './checkout/app';
import { nagViolations, policyStatements, resourceIdOf } from './template-helpers';

describe('ShardflowHttpApi', () => {
  const { stack, deployed, topic } = checkoutStack();
  const totals = deployed.tables.get('CustomerTotals') as dynamodb.ITable;
  const api = new ShardflowHttpApi(stack, 'CheckoutHttp', {
    app: checkoutApp,
    entry: CHECKOUT_ENTRY,
    handler: 'checkoutHttpHandler',
    tableAccess: [{ table: totals, actions: ['dynamodb:GetItem'] }],
    alarmTopic: topic,
  });
  const template = Template.fromStack(stack);

  it('sends every path to the app\'s HTTP function in payload format 1.0, throttled and access-logged', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.checkoutHttpHandler', Runtime: 'nodejs24.x', MemorySize: 256, Timeout: 10 });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { PayloadFormatVersion: '1.0', IntegrationType: 'AWS_PROXY' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [resourceIdOf(stack, api.node.findChild('AccessLogs')), 'Arn'] } },
    });
  });

  it('grants the routes exactly the table actions given', () => {
    const byResource = policyStatements(template, api.lambdaFunction);
    expect(byResource.get(`arn:${resourceIdOf(stack, totals)}`)).toEqual([{ actions: ['dynamodb:GetItem'] }]);
    expect([...byResource.keys()].filter((resource) => !resource.startsWith('arn:'))).toEqual([]);
  });

  it('alarms on the function\'s errors, notifying the topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: resourceIdOf(stack, api.lambdaFunction) } }],
      AlarmActions: [{ Ref: resourceIdOf(stack, topic) }],
    });
  });

  it('passes cdk-nag\'s AwsSolutions checks, its public routes acknowledged', () => {
    expect(nagViolations(new AwsSolutionsChecks().validateScope(stack))).toEqual([]);
  });

  it('refuses an app without HTTP routes', () => {
    const { stack: other } = checkoutStack();
    expect(() => new ShardflowHttpApi(other, 'NoRoutes', { app: { ...checkoutApp, http: undefined }, entry: CHECKOUT_ENTRY, handler: 'checkoutHttpHandler' })).toThrow(
      /app "checkout" has no HTTP routes/,
    );
  });
});
