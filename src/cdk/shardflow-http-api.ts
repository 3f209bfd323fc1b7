/**
 * `ShardflowHttpApi`: an app's HTTP routes (`http` in its definition) behind one function and an API Gateway HTTP
 * API (payload format 1.0, every path to the function, which routes itself). The routes' table access is granted
 * as given, action by action: the app definition does not say what its routes call.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AppDefinition } from '../app/types';
import { optionsError } from '../runtime/options';
import { METRIC_PERIOD } from './app-metrics';
import { shardflowFunction, type FunctionOptions } from './function-options';
import { grantTableAccess } from './table-access';

/** A table the routes use and the calls they make to it. */
export interface HttpTableAccess {
  readonly table: dynamodb.ITable;
  /** @example ['dynamodb:GetItem', 'dynamodb:UpdateItem'] */
  readonly actions: readonly string[];
}

export interface ShardflowHttpApiProps extends FunctionOptions {
  /** The app, as `defineApp` made it; it must have `http`. */
  readonly app: AppDefinition;
  /**
   * The tables the routes use, each with exactly the actions they call.
   * @default [] (routes that touch no table)
   */
  readonly tableAccess?: readonly HttpTableAccess[];
  /**
   * Who may call the routes.
   * @default none: the routes are public
   */
  readonly authorizer?: apigateway.IHttpRouteAuthorizer;
  /**
   * Requests per second the API accepts (steady rate and burst), so a flood costs at most this.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttle?: apigateway.ThrottleSettings;
  /**
   * Where the function's error alarm notifies.
   * @default no actions
   */
  readonly alarmTopic?: sns.ITopic;
}

const COMPONENT = 'ShardflowHttpApi';

export class ShardflowHttpApi extends Construct {
  readonly lambdaFunction: nodejs.NodejsFunction;
  readonly api: apigateway.HttpApi;
  readonly stage: apigateway.HttpStage;
  /** The API's URL (its default stage). */
  readonly url: string;
  /** Invocations of the routes' function that failed (an error thrown, a timeout or a crash). */
  readonly errorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ShardflowHttpApiProps) {
    super(scope, id);
    const { app } = props;
    if (app.http === undefined) throw optionsError(COMPONENT, `app "${app.name}" has no HTTP routes (its definition has no "http")`);
    const fn = shardflowFunction(this, 'HttpFunction', COMPONENT, props, {
      memorySize: 256,
      timeout: Duration.seconds(10),
      description: `shardflow app ${app.name}: HTTP routes`,
      environment: {},
    });
    this.lambdaFunction = fn;
    for (const access of props.tableAccess ?? []) grantTableAccess(fn, access.table, access);

    this.api = new apigateway.HttpApi(this, 'Api', {
      apiName: `${app.name}-http`,
      defaultIntegration: new HttpLambdaIntegration('Routes', fn, { payloadFormatVersion: apigateway.PayloadFormatVersion.VERSION_1_0 }),
      defaultAuthorizer: props.authorizer,
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 100, burstLimit: 200 },
      accessLogSettings: { destination: new apigateway.LogGroupLogDestination(accessLogs) },
    });
    this.url = this.stage.url;
    if (props.authorizer === undefined) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'No authorizer was given, so the routes are public by the caller\'s choice (ShardflowHttpApi\'s "authorizer" prop).',
      });
    }

    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      metric: fn.metricErrors({ period: METRIC_PERIOD, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `${app.name} HTTP routes: invocations failed (an error thrown, a timeout or a crash); callers got a 5xx.`,
    });
    if (props.alarmTopic !== undefined) {
      this.errorsAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.errorsAlarm.addOkAction(new actions.SnsAction(props.alarmTopic));
    }
  }
}
