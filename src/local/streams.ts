/**
 * One reader interface over the Kinesis and DynamoDB Streams shard APIs (any endpoint: kinesalite,
 * DynamoDB Local, AWS), returning records in the shape Lambda delivers. Used by the poller and the recorder.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand as GetStreamRecordsCommand,
  GetShardIteratorCommand as GetStreamShardIteratorCommand,
  type DynamoDBStreamsClient,
  type Shard as StreamsShard,
} from '@aws-sdk/client-dynamodb-streams';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
  type Shard as KinesisShard,
} from '@aws-sdk/client-kinesis';
import { tableNameFromStreamArn } from '../runtime/dynamodb';
import { lambdaDynamoDBRecord, lambdaKinesisRecord, type LambdaStreamRecord } from './lambda-records';

export interface ShardInfo {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  readonly adjacentParentShardId: string | undefined;
}

/** Where to start reading a shard. DynamoDB Streams has no AT_TIMESTAMP. */
export type ShardPosition =
  | { readonly type: 'TRIM_HORIZON' }
  | { readonly type: 'LATEST' }
  | { readonly type: 'AFTER_SEQUENCE_NUMBER'; readonly sequenceNumber: string }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: number };

export interface ShardRead {
  readonly records: readonly LambdaStreamRecord[];
  /** Undefined when the shard is closed and every record was read. */
  readonly nextIterator: string | undefined;
  /** Kinesis only: how far behind the tip of the shard this read was. */
  readonly millisBehindLatest: number | undefined;
}

export interface StreamReader {
  readonly source: 'aws:kinesis' | 'aws:dynamodb';
  /** The table name (DynamoDB) or stream name (Kinesis) this reader was opened for. */
  readonly name: string;
  readonly streamArn: string;
  /**
   * Identifies this incarnation of the stream, for checkpoints: a re-created Kinesis stream keeps its ARN but
   * not its sequence numbers, so its creation time is part of the key. DynamoDB stream ARNs already hold it.
   */
  readonly streamKey: string;
  /** The largest GetRecords limit the API accepts. */
  readonly maxReadLimit: number;
  listShards(): Promise<ShardInfo[]>;
  iterator(shardId: string, position: ShardPosition): Promise<string | undefined>;
  read(shardId: string, iterator: string, limit: number): Promise<ShardRead>;
}

/**
 * A listing with the parents that are not listed any more removed: they have expired, their records are gone,
 * so there is nothing to wait for.
 */
export function withListedParents(shards: readonly ShardInfo[]): ShardInfo[] {
  const listed = new Set(shards.map((shard) => shard.shardId));
  const listedOrNone = (parent: string | undefined) => (parent !== undefined && listed.has(parent) ? parent : undefined);
  return shards.map((shard) => ({
    shardId: shard.shardId,
    parentShardId: listedOrNone(shard.parentShardId),
    adjacentParentShardId: listedOrNone(shard.adjacentParentShardId),
  }));
}

/** Whether a shard may be read: as Lambda does, a child only once its parents were read to their end. */
export function parentsDone(shard: ShardInfo, isDone: (shardId: string) => boolean): boolean {
  return [shard.parentShardId, shard.adjacentParentShardId].every((parent) => parent === undefined || isDone(parent));
}

function shardInfo(shard: KinesisShard | StreamsShard): ShardInfo {
  return {
    shardId: shard.ShardId ?? '',
    parentShardId: shard.ParentShardId,
    adjacentParentShardId: 'AdjacentParentShardId' in shard ? shard.AdjacentParentShardId : undefined,
  };
}

export async function openKinesisStream(client: KinesisClient, streamName: string): Promise<StreamReader> {
  const { StreamDescriptionSummary: summary } = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  if (summary?.StreamARN === undefined) throw new Error(`Kinesis stream ${streamName} has no ARN in DescribeStreamSummary.`);
  const streamArn = summary.StreamARN;
  const region = streamArn.split(':')[3] || (await client.config.region());
  const created = summary.StreamCreationTimestamp?.toISOString() ?? 'unknown';
  return {
    source: 'aws:kinesis',
    name: streamName,
    streamArn,
    streamKey: `${streamArn}@${created}`,
    maxReadLimit: 10_000,
    async listShards() {
      const shards: ShardInfo[] = [];
      let nextToken: string | undefined;
      do {
        // ListShards takes either the stream name or a token, never both.
        const page = await client.send(
          new ListShardsCommand(nextToken === undefined ? { StreamName: streamName } : { NextToken: nextToken }),
        );
        shards.push(...(page.Shards ?? []).map(shardInfo));
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
      return shards;
    },
    async iterator(shardId, position) {
      const response = await client.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: position.type,
          ...(position.type === 'AFTER_SEQUENCE_NUMBER' && { StartingSequenceNumber: position.sequenceNumber }),
          ...(position.type === 'AT_TIMESTAMP' && { Timestamp: new Date(position.timestamp) }),
        }),
      );
      return response.ShardIterator;
    },
    async read(shardId, iterator, limit) {
      const response = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
      return {
        records: (response.Records ?? []).map((record) => lambdaKinesisRecord(record, { shardId, streamArn, region })),
        nextIterator: response.NextShardIterator,
        millisBehindLatest: response.MillisBehindLatest,
      };
    },
  };
}

/** Opens the stream of a table (its latest stream) or a DynamoDB stream given by ARN. */
export async function openDynamoDBStream(
  clients: { readonly dynamodb: DynamoDBClient; readonly streams: DynamoDBStreamsClient },
  table: { readonly tableName: string } | { readonly streamArn: string },
): Promise<StreamReader> {
  let streamArn: string;
  if ('streamArn' in table) {
    streamArn = table.streamArn;
  } else {
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: table.tableName }));
    if (Table?.LatestStreamArn === undefined || Table.StreamSpecification?.StreamEnabled !== true) {
      throw new Error(`Table ${table.tableName} has no stream enabled; enable a stream to consume its changes.`);
    }
    streamArn = Table.LatestStreamArn;
  }
  const name = tableNameFromStreamArn(streamArn) ?? streamArn;
  const { streams } = clients;
  return {
    source: 'aws:dynamodb',
    name,
    streamArn,
    streamKey: streamArn,
    maxReadLimit: 1000,
    async listShards() {
      const shards: ShardInfo[] = [];
      let exclusiveStartShardId: string | undefined;
      do {
        const { StreamDescription: description } = await streams.send(
          new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
        );
        shards.push(...(description?.Shards ?? []).map(shardInfo));
        exclusiveStartShardId = description?.LastEvaluatedShardId;
      } while (exclusiveStartShardId !== undefined);
      return shards;
    },
    async iterator(shardId, position) {
      if (position.type === 'AT_TIMESTAMP') {
        throw new Error(`DynamoDB Streams cannot start reading shard ${shardId} at a timestamp.`);
      }
      const response = await streams.send(
        new GetStreamShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: position.type,
          ...(position.type === 'AFTER_SEQUENCE_NUMBER' && { SequenceNumber: position.sequenceNumber }),
        }),
      );
      return response.ShardIterator;
    },
    async read(_shardId, iterator, limit) {
      const response = await streams.send(new GetStreamRecordsCommand({ ShardIterator: iterator, Limit: limit }));
      return {
        records: (response.Records ?? []).map((record) => lambdaDynamoDBRecord(record, { streamArn })),
        nextIterator: response.NextShardIterator,
        millisBehindLatest: undefined,
      };
    },
  };
}
