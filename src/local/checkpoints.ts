/**
 * Per-shard checkpoints of the local poller, kept in a DynamoDB table next to the data they describe: with the
 * embedded in-memory DynamoDB Local they vanish with the data, against a persistent endpoint they persist with it.
 */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { TableDefinition } from '../app/types';
import { paddedSequenceNumber } from '../runtime/model';
import { ensureTables } from './environment';

/** What the poller knows about a shard after a restart. */
export interface ShardCheckpoint {
  /** Every record up to and including this one is done (applied, or in an on-failure record). */
  readonly sequenceNumber?: string;
  /** Epoch ms when a LATEST mapping first read this shard; a restart before any checkpoint starts from here. */
  readonly startedAt?: number;
  /** The shard is closed and was read to its end. */
  readonly closed?: boolean;
}

export interface CheckpointStore {
  load(key: string): Promise<ShardCheckpoint | undefined>;
  /** Records where a LATEST mapping started reading a shard, unless something is recorded for it already. */
  saveStart(key: string, startedAt: number): Promise<void>;
  /** Moves the checkpoint forward; never backwards (a second poller on the same shard makes this throw). */
  saveSequence(key: string, sequenceNumber: string): Promise<void>;
  saveClosed(key: string): Promise<void>;
}

/** The table `DynamoDBCheckpointStore` uses (key `Shard`, a string). */
export const CHECKPOINT_TABLE = 'ShardflowCheckpoints';

export function checkpointTableDefinition(name: string): TableDefinition {
  return {
    TableName: name,
    KeySchema: [{ AttributeName: 'Shard', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'Shard', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

export class DynamoDBCheckpointStore implements CheckpointStore {
  readonly tableName = CHECKPOINT_TABLE;

  constructor(private readonly client: DynamoDBClient) {}

  /** Creates the table when it is missing. */
  async ensureTable(): Promise<void> {
    await ensureTables(this.client, [checkpointTableDefinition(this.tableName)]);
  }

  async load(key: string): Promise<ShardCheckpoint | undefined> {
    const { Item: item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { Shard: { S: key } }, ConsistentRead: true }),
    );
    if (item === undefined) return undefined;
    return {
      ...(item.SequenceNumber?.S !== undefined && { sequenceNumber: item.SequenceNumber.S }),
      ...(item.StartedAt?.N !== undefined && { startedAt: Number(item.StartedAt.N) }),
      ...(item.Closed?.BOOL === true && { closed: true }),
    };
  }

  async saveStart(key: string, startedAt: number): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { Shard: { S: key }, StartedAt: { N: String(startedAt) } },
          ConditionExpression: 'attribute_not_exists(#shard)',
          ExpressionAttributeNames: { '#shard': 'Shard' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async saveSequence(key: string, sequenceNumber: string): Promise<void> {
    const padded = paddedSequenceNumber(sequenceNumber);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { Shard: { S: key } },
          UpdateExpression: 'SET #sequence = :sequence, #position = :padded, #updated = :now',
          // Padded so that string order is numeric order; equal is fine (a repeated checkpoint after a restart).
          ConditionExpression: 'attribute_not_exists(#position) OR #position <= :padded',
          ExpressionAttributeNames: { '#sequence': 'SequenceNumber', '#position': 'Position', '#updated': 'UpdatedAt' },
          ExpressionAttributeValues: {
            ':sequence': { S: sequenceNumber },
            ':padded': { S: padded },
            ':now': { N: String(Date.now()) },
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new Error(
          `The checkpoint of ${key} is already past sequence number ${sequenceNumber}: is another poller reading this shard?`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async saveClosed(key: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { Shard: { S: key } },
        UpdateExpression: 'SET #closed = :closed',
        ExpressionAttributeNames: { '#closed': 'Closed' },
        ExpressionAttributeValues: { ':closed': { BOOL: true } },
      }),
    );
  }
}
