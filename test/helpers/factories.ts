/**
 * The public record factories (shardflow/testing) with the seed apps' stream and table as defaults, so the suite's
 * many records for the seed processors need not name them. Everything else is the public API as it is.
 */
import { GAME_SCORE_RECORDS, LAB_STREAM } from '../../src/seed/tables';
import * as testing from '../../src/testing';
import type { DynamoDBRecordOptions, KinesisRecordFields, KinesisRecordOptions, KplUserRecordInput, RawDynamoDBRecordOptions } from '../../src/testing';

export { dynamodbEvent, kinesisEvent, marshallItem } from '../../src/testing';
export type { DynamoDBEventName, DynamoDBItem, DynamoDBViewType, RawItem } from '../../src/testing';

export const DEFAULT_STREAM_NAME = LAB_STREAM;
export const DEFAULT_TABLE_NAME = GAME_SCORE_RECORDS;
export const DEFAULT_SHARD_ID = testing.FACTORY_DEFAULTS.shardId;
export const REGION = testing.FACTORY_DEFAULTS.region;

export const kinesisStreamArn = (streamName = DEFAULT_STREAM_NAME) => testing.kinesisStreamArn(streamName);

export const dynamodbStreamArn = (table = DEFAULT_TABLE_NAME) => testing.dynamodbStreamArn(table);

export const kinesisRecord = (options: KinesisRecordOptions = {}) =>
  testing.kinesisRecord({ ...options, streamName: options.streamName ?? DEFAULT_STREAM_NAME });

export const kplAggregateRecord = (userRecords: readonly KplUserRecordInput[], options: KinesisRecordFields = {}) =>
  testing.kplAggregateRecord(userRecords, { ...options, streamName: options.streamName ?? DEFAULT_STREAM_NAME });

export const dynamodbRecord = (options: DynamoDBRecordOptions) =>
  testing.dynamodbRecord({ ...options, table: options.table ?? DEFAULT_TABLE_NAME });

export const rawDynamodbRecord = (options: RawDynamoDBRecordOptions) =>
  testing.rawDynamodbRecord({ ...options, table: options.table ?? DEFAULT_TABLE_NAME });
