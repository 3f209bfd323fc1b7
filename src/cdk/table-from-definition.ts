/**
 * A DynamoDB table made from an app's table definition (CreateTable's input plus a TTL attribute): its keys, billing,
 * stream and TTL, with point-in-time recovery on. Indexes are not translated: a table with indexes is the user's to
 * create and pass in.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { TableDefinition } from '../app/types';
import { optionsError } from '../runtime/options';

const ATTRIBUTE_TYPES = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER, B: dynamodb.AttributeType.BINARY } as const;

export interface TableOptions {
  /**
   * The physical name: the definition's own, for tables the app's processors name; undefined lets CloudFormation
   * name it (tables the handler finds through its environment).
   */
  readonly tableName: string | undefined;
  readonly removalPolicy: RemovalPolicy;
}

export function tableFromDefinition(scope: Construct, id: string, component: string, definition: TableDefinition, options: TableOptions): dynamodb.Table {
  const name = definition.TableName as string;
  if ((definition.GlobalSecondaryIndexes?.length ?? 0) + (definition.LocalSecondaryIndexes?.length ?? 0) > 0) {
    throw optionsError(component, `table ${name} has secondary indexes, which the construct does not create: create the table yourself and pass it in "tables"`);
  }
  const keyOf = (keyType: 'HASH' | 'RANGE'): dynamodb.Attribute | undefined => {
    const attribute = definition.KeySchema?.find((key) => key.KeyType === keyType)?.AttributeName;
    if (attribute === undefined) return undefined;
    const type = definition.AttributeDefinitions?.find((candidate) => candidate.AttributeName === attribute)?.AttributeType;
    if (type === undefined) throw optionsError(component, `table ${name} defines no type for its key attribute ${attribute}`);
    return { name: attribute, type: ATTRIBUTE_TYPES[type] };
  };
  const partitionKey = keyOf('HASH');
  if (partitionKey === undefined) throw optionsError(component, `table ${name} has no HASH key`);
  const stream = definition.StreamSpecification?.StreamEnabled === true ? definition.StreamSpecification.StreamViewType : undefined;
  const provisioned = definition.BillingMode === 'PROVISIONED' ? definition.ProvisionedThroughput : undefined;
  return new dynamodb.Table(scope, id, {
    tableName: options.tableName,
    partitionKey,
    sortKey: keyOf('RANGE'),
    billingMode: provisioned === undefined ? dynamodb.BillingMode.PAY_PER_REQUEST : dynamodb.BillingMode.PROVISIONED,
    readCapacity: provisioned?.ReadCapacityUnits,
    writeCapacity: provisioned?.WriteCapacityUnits,
    stream: stream === undefined ? undefined : (stream as dynamodb.StreamViewType),
    timeToLiveAttribute: definition.timeToLiveAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: options.removalPolicy,
  });
}
