/**
 * `ShardflowApp`: one app on Lambda. Its function (the app's entry, bundled locally), an event source mapping per
 * source the app consumes (existing streams, given by the user), the tables the app owns unless the user passes
 * them, an encrypted on-failure queue, least-privilege grants, alarms and the app's dashboard.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { DynamoEventSource, KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AppDefinition } from '../app/types';
import { LambdaEnvironment } from '../app/lambda';
import { optionsError } from '../runtime/options';
import { ExactlyOnceMode } from '../sinks/dynamodb';
import { appAlarms, type AlarmOptions, type AppAlarms } from './app-alarms';
import type { DeployedApp, DeployedMapping } from './app-metrics';
import { appDashboard } from './cloudwatch-dashboard';
import { shardflowFunction, type FunctionOptions } from './function-options';
import { streamEventSourceProps, type MappingOptions } from './mapping-options';
import { resolveSources, type ResolvedSources, type ShardflowSources } from './sources';
import { SinkTableAccess, grantTableAccess } from './table-access';
import { tableFromDefinition } from './table-from-definition';

export interface ShardflowAppProps extends FunctionOptions, AlarmOptions {
  /** The app, as `defineApp` made it. */
  readonly app: AppDefinition;
  /** Every stream the app consumes, as an existing resource. */
  readonly sources: ShardflowSources;
  /**
   * Existing tables for tables the app owns (its outputs and other tables, by their names; its marker and fault
   * tables, by the names the app gives them). The construct creates each one not given here.
   * @default {} (every table the app owns is created)
   */
  readonly tables?: Readonly<Record<string, dynamodb.ITable>>;
  /**
   * Where the mappings send the on-failure records of batches that ran out of retries or expired.
   * @default a new queue, SQS-managed encryption, SSL only, 14 days of retention
   */
  readonly onFailureQueue?: sqs.IQueue;
  /**
   * What happens to the tables and the queue the construct creates when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Overrides of the event source mappings' settings. An app in checkpoint mode keeps ParallelizationFactor 1 on its
   * Kinesis streams.
   * @default the app's `eventSource` settings, with partial batch responses, ParallelizationFactor 1 and the mapping's metrics on
   */
  readonly mapping?: MappingOptions;
  /**
   * Make the app's CloudWatch dashboard.
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * The CloudWatch dashboard's name.
   * @default a name CloudFormation generates
   */
  readonly dashboardName?: string;
}

const COMPONENT = 'ShardflowApp';
/** Lambda keeps stream on-failure records in the queue this long for someone to look at them. */
const ON_FAILURE_RETENTION = Duration.days(14);

export class ShardflowApp extends Construct {
  readonly app: AppDefinition;
  readonly lambdaFunction: nodejs.NodejsFunction;
  /** Every table the app uses, sources included, by the name the app gives it. */
  readonly tables: ReadonlyMap<string, dynamodb.ITable>;
  readonly faultTable: dynamodb.ITable;
  /** The exactly-once sink's marker table, when the app uses the default sinks for its outputs. */
  readonly markerTable: dynamodb.ITable | undefined;
  readonly onFailureQueue: sqs.IQueue;
  /** One event source mapping per source. */
  readonly mappings: readonly DeployedMapping[];
  readonly alarms: AppAlarms;
  readonly dashboard: cloudwatch.Dashboard | undefined;

  constructor(scope: Construct, id: string, props: ShardflowAppProps) {
    super(scope, id);
    const { app } = props;
    this.app = app;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const sources = resolveSources(this, COMPONENT, app, props.sources);
    this.tables = this.appTables(sources.tables, props.tables ?? {}, removalPolicy);
    this.faultTable = this.tables.get(app.faultTable) as dynamodb.ITable;
    this.markerTable = app.markerTable === undefined ? undefined : this.tables.get(app.markerTable);

    this.lambdaFunction = shardflowFunction(this, 'StreamFunction', COMPONENT, props, {
      memorySize: 512,
      timeout: Duration.seconds(60),
      description: `shardflow app ${app.name}`,
      environment: {
        [LambdaEnvironment.FaultTable]: this.faultTable.tableName,
        ...(this.markerTable !== undefined && { [LambdaEnvironment.MarkerTable]: this.markerTable.tableName }),
      },
    });
    this.grantSinkTables();
    this.onFailureQueue = props.onFailureQueue ?? this.createOnFailureQueue(removalPolicy);
    this.mappings = this.mapSources(sources, props.mapping ?? {});

    const deployed: DeployedApp = { service: app.name, function: this.lambdaFunction, mappings: this.mappings };
    this.alarms = appAlarms(this, deployed, this.onFailureQueue, props);
    this.dashboard = props.dashboard === false ? undefined : appDashboard(this, 'Dashboard', deployed, props.dashboardName);
  }

  /** The sources, plus every table the app owns: the one given for it, else a new one. */
  private appTables(sources: ReadonlyMap<string, dynamodb.ITable>, given: Readonly<Record<string, dynamodb.ITable>>, removalPolicy: RemovalPolicy): Map<string, dynamodb.ITable> {
    const { app } = this;
    const owned = app.tables.filter((definition) => !sources.has(definition.TableName as string));
    const unknown = Object.keys(given).filter((name) => !owned.some((definition) => definition.TableName === name));
    if (unknown.length > 0) throw optionsError(COMPONENT, `option "tables" names ${unknown.join(', ')}, which the app does not own`);
    const tables = new Map<string, dynamodb.ITable>(sources);
    for (const definition of owned) {
      const name = definition.TableName as string;
      // Marker and fault tables are found through the function's environment, so CloudFormation may name them.
      const id = name === app.faultTable ? 'FaultTable' : name === app.markerTable ? 'MarkerTable' : undefined;
      tables.set(
        name,
        given[name] ?? tableFromDefinition(this, id ?? `${name}Table`, COMPONENT, definition, { tableName: id === undefined ? name : undefined, removalPolicy }),
      );
    }
    return tables;
  }

  private grantSinkTables(): void {
    const fn = this.lambdaFunction;
    grantTableAccess(fn, this.faultTable, SinkTableAccess.Fault);
    // With the default sinks the exactly-once sink writes the outputs; custom sinks get no grants they did not ask for.
    if (this.markerTable === undefined) return;
    grantTableAccess(fn, this.markerTable, this.app.exactlyOnce === ExactlyOnceMode.Checkpoint ? SinkTableAccess.Checkpoint : SinkTableAccess.Marker);
    for (const output of this.app.outputs) grantTableAccess(fn, this.tables.get(output.TableName as string) as dynamodb.ITable, SinkTableAccess.Output);
  }

  private createOnFailureQueue(removalPolicy: RemovalPolicy): sqs.Queue {
    const queue = new sqs.Queue(this, 'OnFailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: ON_FAILURE_RETENTION,
      removalPolicy,
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is the event source mappings' on-failure destination: a dead-letter queue itself, read by people, not redriven.",
    });
    return queue;
  }

  /** One event source mapping per source, all sending on-failure records to the queue. */
  private mapSources(sources: ResolvedSources, options: MappingOptions): DeployedMapping[] {
    const fn = this.lambdaFunction;
    const onFailure = new SqsDlq(this.onFailureQueue);
    const mappings: DeployedMapping[] = [];
    const add = (name: string, source: DynamoEventSource | KinesisEventSource) => {
      fn.addEventSource(source);
      mappings.push({ source: name, eventSourceMappingId: source.eventSourceMappingId });
    };
    for (const [name, table] of sources.tables) add(name, new DynamoEventSource(table, streamEventSourceProps(this.app, name, options, onFailure)));
    for (const [name, stream] of sources.kinesisStreams) add(name, new KinesisEventSource(stream, streamEventSourceProps(this.app, name, options, onFailure)));
    if (sources.tables.size > 0) {
      Validations.of(fn.role ?? fn).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'dynamodb:ListStreams has no resource-level permissions; CDK grants it on * with the stream read (DynamoEventSource).',
      });
    }
    return mappings;
  }
}
