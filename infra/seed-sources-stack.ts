/**
 * The seed systems' sources: the tables and Kinesis streams their writers own. The apps stack consumes them as
 * existing resources, as a user's app consumes streams that exist before it.
 */
import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { Construct } from 'constructs';
import { tableFromDefinition } from '../src/cdk/table-from-definition';
import { seedApps } from '../src/seed';

export class SeedSourcesStack extends Stack {
  /** Every seed source table, by name. */
  readonly tables = new Map<string, dynamodb.Table>();
  /** Every seed Kinesis stream, by name. */
  readonly kinesisStreams = new Map<string, kinesis.Stream>();

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    for (const app of seedApps) {
      for (const definition of app.sources.tables) {
        const name = definition.TableName as string;
        if (this.tables.has(name)) continue;
        this.tables.set(name, tableFromDefinition(this, `${name}Table`, id, definition, { tableName: name, removalPolicy: RemovalPolicy.RETAIN }));
      }
      for (const name of app.sources.kinesisStreams) {
        if (this.kinesisStreams.has(name)) continue;
        this.kinesisStreams.set(
          name,
          new kinesis.Stream(this, `${name}Stream`, { streamName: name, shardCount: 1, encryption: kinesis.StreamEncryption.MANAGED }),
        );
      }
    }
  }
}
