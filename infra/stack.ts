/**
 * Deploys shardflow apps: their tables and streams, one Lambda function per app, and event source mappings with
 * partial batch responses, bisection, bounded retries and an on-failure queue, plus a dashboard and alarms.
 */
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { MetricName, METRICS_NAMESPACE, type AppDefinition, type TableDefinition } from '../src/index';

/** Event source mapping settings shared by every app. */
export interface StreamMappingSettings {
  /**
   * Retries of a failed batch before its records go to the on-failure queue. AWS's default (-1) retries until
   * the record expires, letting one poison record block its shard for a day or more.
   * @default 5
   */
  readonly retryAttempts?: number;
  /** @default Duration.days(1) */
  readonly maxRecordAge?: Duration;
  /** @default true */
  readonly bisectBatchOnError?: boolean;
}

export interface ShardflowStackProps extends StackProps {
  readonly apps: readonly AppDefinition[];
  /** The Lambda bundle (`npm run bundle` writes dist-lambda/index.js from src/apps/lambda.ts). */
  readonly code: lambda.Code;
  readonly mapping?: StreamMappingSettings;
  /** Iterator age, in milliseconds, above which an app's alarm fires. @default 60000 */
  readonly iteratorAgeAlarmMs?: number;
}

const keyTypes = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER, B: dynamodb.AttributeType.BINARY } as const;

export class ShardflowStack extends Stack {
  readonly tables = new Map<string, dynamodb.Table>();
  readonly streams = new Map<string, kinesis.Stream>();
  readonly functions = new Map<string, lambda.Function>();

  constructor(scope: Construct, id: string, props: ShardflowStackProps) {
    super(scope, id, props);
    const mapping = {
      retryAttempts: props.mapping?.retryAttempts ?? 5,
      maxRecordAge: props.mapping?.maxRecordAge ?? Duration.days(1),
      bisectBatchOnError: props.mapping?.bisectBatchOnError ?? true,
    };
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `${id}-shardflow` });

    for (const app of props.apps) {
      const fn = new lambda.Function(this, `${pascal(app.name)}Function`, {
        runtime: lambda.Runtime.NODEJS_22_X,
        code: props.code,
        handler: `index.${camel(app.name)}Handler`,
        memorySize: 512,
        timeout: Duration.seconds(60),
      });
      this.functions.set(app.name, fn);
      const failures = new sqs.Queue(this, `${pascal(app.name)}OnFailure`, { retentionPeriod: Duration.days(14) });
      const onFailure = new SqsDlq(failures);

      for (const definition of app.tables) {
        const table = this.table(definition);
        table.grantReadWriteData(fn);
        if (app.sources.tables.some((source) => source.TableName === definition.TableName)) {
          fn.addEventSource(
            new DynamoEventSource(table, {
              startingPosition: startingPosition(app.eventSource.startingPosition),
              batchSize: app.eventSource.batchSize,
              reportBatchItemFailures: true,
              onFailure,
              ...mapping,
            }),
          );
        }
      }
      for (const name of app.sources.kinesisStreams) {
        fn.addEventSource(
          new KinesisEventSource(this.stream(name), {
            startingPosition: startingPosition(app.eventSource.startingPosition),
            batchSize: app.eventSource.batchSize,
            reportBatchItemFailures: true,
            onFailure,
            ...mapping,
          }),
        );
      }
      this.observe(app, fn, failures, dashboard, props.iteratorAgeAlarmMs ?? 60_000);
    }
    for (const app of props.apps) if (app.http !== undefined) this.httpApi(props.code, app);
  }

  /** An app's HTTP routes behind one function and a REST API that proxies every path to it. */
  private httpApi(code: lambda.Code, app: AppDefinition): void {
    const fn = new lambda.Function(this, `${pascal(app.name)}HttpFunction`, {
      runtime: lambda.Runtime.NODEJS_22_X,
      code,
      handler: `index.${camel(app.name)}HttpHandler`,
      memorySize: 256,
      timeout: Duration.seconds(10),
    });
    for (const definition of app.tables) this.table(definition).grantReadWriteData(fn);
    const api = new apigateway.RestApi(this, `${pascal(app.name)}Api`, { restApiName: `${this.stackName}-${app.name}` });
    api.root.addProxy({ defaultIntegration: new apigateway.LambdaIntegration(fn) });
    this.functions.set(`${app.name}-http`, fn);
  }

  private table(definition: TableDefinition): dynamodb.Table {
    const name = required(definition.TableName, 'TableName');
    const existing = this.tables.get(name);
    if (existing !== undefined) return existing;
    const attributeType = (attribute: string) => {
      const type = definition.AttributeDefinitions?.find((a) => a.AttributeName === attribute)?.AttributeType;
      if (type === undefined) throw new Error(`Table ${name} defines no type for key attribute ${attribute}.`);
      return keyTypes[type];
    };
    const keyOf = (keyType: 'HASH' | 'RANGE') => {
      const attribute = definition.KeySchema?.find((k) => k.KeyType === keyType)?.AttributeName;
      return attribute === undefined ? undefined : { name: attribute, type: attributeType(attribute) };
    };
    const streamSpec = definition.StreamSpecification;
    const table = new dynamodb.Table(this, `${pascal(name)}Table`, {
      tableName: name,
      partitionKey: required(keyOf('HASH'), `${name} hash key`),
      sortKey: keyOf('RANGE'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: streamSpec?.StreamEnabled ? (streamSpec.StreamViewType as dynamodb.StreamViewType) : undefined,
      timeToLiveAttribute: definition.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.tables.set(name, table);
    return table;
  }

  private stream(name: string): kinesis.Stream {
    const existing = this.streams.get(name);
    if (existing !== undefined) return existing;
    const stream = new kinesis.Stream(this, `${pascal(name)}Stream`, { streamName: name, shardCount: 1 });
    this.streams.set(name, stream);
    return stream;
  }

  private observe(
    app: AppDefinition,
    fn: lambda.Function,
    failures: sqs.Queue,
    dashboard: cloudwatch.Dashboard,
    iteratorAgeAlarmMs: number,
  ): void {
    const iteratorAge = fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) });
    const appMetric = (name: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: app.name },
        statistic: 'Sum',
        period: Duration.minutes(1),
      });
    new cloudwatch.Alarm(this, `${pascal(app.name)}IteratorAgeAlarm`, {
      metric: iteratorAge,
      threshold: iteratorAgeAlarmMs,
      evaluationPeriods: 5,
      alarmDescription: `${app.name}: records wait longer than ${iteratorAgeAlarmMs} ms; a shard may be blocked.`,
    });
    new cloudwatch.Alarm(this, `${pascal(app.name)}OnFailureAlarm`, {
      metric: failures.metricApproximateNumberOfMessagesVisible(),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: `${app.name}: batches exhausted their retries; their records are described in the on-failure queue.`,
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `${app.name}: records`,
        left: [MetricName.RecordsIn, MetricName.RecordsProcessed, MetricName.RecordsFailed, MetricName.RecordsFaulted].map(appMetric),
      }),
      new cloudwatch.GraphWidget({ title: `${app.name}: iterator age`, left: [iteratorAge] }),
      new cloudwatch.GraphWidget({ title: `${app.name}: errors`, left: [fn.metricErrors(), fn.metricThrottles()] }),
    );
  }
}

function startingPosition(position: 'TRIM_HORIZON' | 'LATEST'): lambda.StartingPosition {
  return position === 'LATEST' ? lambda.StartingPosition.LATEST : lambda.StartingPosition.TRIM_HORIZON;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`The app definition is missing ${what}.`);
  return value;
}

function pascal(name: string): string {
  return name.replace(/(^|[-_ ])(\w)/g, (_match, _sep: string, letter: string) => letter.toUpperCase());
}

function camel(name: string): string {
  const p = pascal(name);
  return p.charAt(0).toLowerCase() + p.slice(1);
}
