/**
 * What factory-made records carry unless told otherwise. The names are neutral on purpose: a test names its own
 * app's streams and tables.
 */
export const FACTORY_DEFAULTS = {
  /** The account in stream ARNs and Kinesis' `invokeIdentityArn`. */
  accountId: '123456789012',
  /** Every record's `awsRegion`, and the region in its stream ARN. */
  region: 'us-east-1',
  /** The Kinesis shard (records name it in their `eventID`). */
  shardId: 'shardId-000000000000',
  /** The Kinesis stream. */
  streamName: 'test-stream',
  /** The DynamoDB table whose stream the records come from. */
  tableName: 'test-table',
  /** A Kinesis record's partition key. */
  partitionKey: 'pk-1',
} as const satisfies Readonly<Record<string, string>>;
