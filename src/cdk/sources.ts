/**
 * The streams an app consumes, as the user's existing resources: each source the app names, given by reference or by
 * ARN. The construct never creates a source: it belongs to whoever writes to it.
 */
import { Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { Construct } from 'constructs';
import type { AppDefinition } from '../app/types';
import { tableNameFromStreamArn } from '../runtime/dynamodb';
import { optionsError } from '../runtime/options';

/** The app's sources, by the names the app gives them. */
export interface ShardflowSources {
  /**
   * Each source table of the app, by its `TableName`: the table (with its stream), or the ARN of its stream.
   * @default {} (an app without source tables)
   * @example { Carts: cartsTable }
   */
  readonly tables?: Readonly<Record<string, dynamodb.ITable | string>>;
  /**
   * Each Kinesis stream of the app, by its name: the stream, or its ARN.
   * @default {} (an app without Kinesis sources)
   * @example { 'checkout-events': kinesis.Stream.fromStreamArn(this, 'Events', eventsArn) }
   */
  readonly kinesisStreams?: Readonly<Record<string, kinesis.IStream | string>>;
}

export interface ResolvedSources {
  readonly tables: ReadonlyMap<string, dynamodb.ITable>;
  readonly kinesisStreams: ReadonlyMap<string, kinesis.IStream>;
}

const KINESIS_STREAM_NAME = /:stream\/([^/]+)$/;

/** Throws unless `given` names exactly the sources the app has. */
function checkNames(component: string, kind: string, wanted: readonly string[], given: readonly string[]): void {
  const missing = wanted.filter((name) => !given.includes(name));
  const unknown = given.filter((name) => !wanted.includes(name));
  if (missing.length > 0) throw optionsError(component, `option "sources.${kind}" is missing ${missing.join(', ')}, which the app consumes`);
  if (unknown.length > 0) throw optionsError(component, `option "sources.${kind}" names ${unknown.join(', ')}, which the app does not consume (it consumes ${wanted.join(', ') || 'none'})`);
}

/** Processors select records by table or stream name, so a source deployed under another name would be ignored. */
function checkDeployedName(component: string, wanted: string, deployed: string | undefined): void {
  if (deployed !== undefined && !Token.isUnresolved(deployed) && deployed !== wanted) {
    throw optionsError(component, `source ${wanted} is given as ${deployed}: the app's processors select records by the name ${wanted}`);
  }
}

function nameInArn(component: string, source: string, arn: string, name: string | undefined, kind: string): string {
  if (name === undefined || !arn.startsWith('arn:')) throw optionsError(component, `source ${source} is given as "${arn}", which is not a ${kind} ARN`);
  return name;
}

export function resolveSources(scope: Construct, component: string, app: AppDefinition, sources: ShardflowSources): ResolvedSources {
  const tableNames = app.sources.tables.map((table) => table.TableName as string);
  checkNames(component, 'tables', tableNames, Object.keys(sources.tables ?? {}));
  checkNames(component, 'kinesisStreams', app.sources.kinesisStreams, Object.keys(sources.kinesisStreams ?? {}));

  const tables = new Map<string, dynamodb.ITable>();
  for (const [name, source] of Object.entries(sources.tables ?? {})) {
    if (typeof source === 'string') {
      if (!Token.isUnresolved(source)) checkDeployedName(component, name, nameInArn(component, name, source, tableNameFromStreamArn(source), 'DynamoDB stream'));
      tables.set(name, dynamodb.Table.fromTableAttributes(scope, `Source${tables.size}`, { tableName: name, tableStreamArn: source }));
      continue;
    }
    if (source.tableStreamArn === undefined) {
      throw optionsError(component, `source table ${name} has no stream ARN: enable its stream, or import it with tableStreamArn`);
    }
    checkDeployedName(component, name, source.tableName);
    tables.set(name, source);
  }
  const kinesisStreams = new Map<string, kinesis.IStream>();
  for (const [name, source] of Object.entries(sources.kinesisStreams ?? {})) {
    if (typeof source === 'string') {
      if (!Token.isUnresolved(source)) checkDeployedName(component, name, nameInArn(component, name, source, KINESIS_STREAM_NAME.exec(source)?.[1], 'Kinesis stream'));
      kinesisStreams.set(name, kinesis.Stream.fromStreamArn(scope, `SourceStream${kinesisStreams.size}`, source));
      continue;
    }
    checkDeployedName(component, name, source.streamName);
    kinesisStreams.set(name, source);
  }
  return { tables, kinesisStreams };
}
