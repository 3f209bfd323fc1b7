/**
 * The local event source mapping against real DynamoDB Local streams and kinesalite shards, with toy handlers
 * that count what they see (not idempotent on purpose: every repeated delivery shows).
 */
import { PutItemCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { PutRecordsCommand, SplitShardCommand, waitUntilStreamExists, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { StreamHandler } from '../../src/runtime/types';
import { DynamoDBCheckpointStore, type CheckpointStore } from '../../src/local/checkpoints';
import { crashingCheckpoints } from '../helpers/checkpoints';
import { ensureStreams, ensureTables, openEnvironment, type LocalEnvironment } from '../../src/local/environment';
import type { OnFailureRecord } from '../../src/local/event-source';
import { recordPosition } from '../../src/local/lambda-records';
import { LocalPoller, type PollerMapping } from '../../src/local/poller';
import { compareSequenceNumbers } from '../../src/runtime/model';
import { useDynamoDBLocal, useKinesalite } from '../../src/testing';

interface Seen {
  readonly key: string;
  readonly shard: string;
  readonly sequenceNumber: string;
}

/** A handler that notes every record it sees; `fail` decides per record whether to report it failed. */
function countingHandler(seen: Seen[][], fail: (key: string) => boolean = () => false): StreamHandler {
  return async (event) => {
    const batch: Seen[] = event.Records.map((record) => {
      const position = recordPosition(record);
      const key =
        'kinesis' in record ? Buffer.from(record.kinesis.data, 'base64').toString('utf8') : String(record.dynamodb?.Keys?.ID?.S);
      return { key, shard: position.shardId ?? 'ddb', sequenceNumber: position.sequenceNumber ?? '' };
    });
    seen.push(batch);
    const failed = batch.filter((record) => fail(record.key));
    return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.sequenceNumber })) };
  };
}

function countByKey(seen: Seen[][]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of seen.flat()) counts.set(record.key, (counts.get(record.key) ?? 0) + 1);
  return counts;
}

describe('LocalPoller', () => {
  const ddb = useDynamoDBLocal();
  const kinesis = useKinesalite();
  let environment: LocalEnvironment;
  let dynamodb: DynamoDBClient;
  let streams: DynamoDBStreamsClient;
  let kinesisClient: KinesisClient;
  let checkpoints: DynamoDBCheckpointStore;

  beforeAll(async () => {
    environment = await openEnvironment({ dynamodbEndpoint: ddb.endpoint(), kinesisEndpoint: kinesis.endpoint(), kinesis: true });
    ({ dynamodb, streams } = environment);
    if (environment.kinesis === undefined) throw new Error('No Kinesis client was opened.');
    kinesisClient = environment.kinesis;
    checkpoints = new DynamoDBCheckpointStore(dynamodb);
    await checkpoints.ensureTable();
  });
  afterAll(async () => {
    await environment.close();
  });

  const poller = (mappings: PollerMapping[], store: CheckpointStore = checkpoints, onFailure?: (record: OnFailureRecord) => void) =>
    new LocalPoller(mappings, {
      clients: { dynamodb, streams, kinesis: kinesisClient },
      checkpoints: store,
      pollIntervalMs: 20,
      restartDelayMs: 20,
      onFailure: (record) => onFailure?.(record),
    });

  async function createStreamTable(name: string, viewType: 'KEYS_ONLY' | 'NEW_IMAGE' = 'KEYS_ONLY'): Promise<void> {
    await ensureTables(dynamodb, [
      {
        TableName: name,
        KeySchema: [{ AttributeName: 'ID', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'ID', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: viewType },
      },
    ]);
  }

  async function putItems(table: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) await dynamodb.send(new PutItemCommand({ TableName: table, Item: { ID: { S: id } } }));
  }

  async function putKinesis(stream: string, keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 100) {
      await kinesisClient.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: keys.slice(start, start + 100).map((key) => ({ PartitionKey: key, Data: Buffer.from(key) })),
        }),
      );
    }
  }

  it('delivers DynamoDB stream records in order, in batches, and resumes after a stop without repeating any', async () => {
    await createStreamTable('ToyResume');
    const first = Array.from({ length: 23 }, (_, index) => `a${index}`);
    const second = Array.from({ length: 17 }, (_, index) => `b${index}`);
    await putItems('ToyResume', first);
    const seen: Seen[][] = [];
    const handler = countingHandler(seen);
    let stopping: Promise<void> | undefined;
    const run1 = poller([
      {
        name: 'toy-resume',
        sources: [{ table: 'ToyResume' }],
        batchSize: 5,
        handler: async (event, context) => {
          const response = await handler(event, context);
          // Stop midway, from inside the third batch: the batch finishes, nothing after it starts.
          if (seen.length === 3) stopping = run1.stop();
          return response;
        },
      },
    ]);
    await run1.start();
    while (stopping === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    await stopping;
    expect(seen.flat().map((record) => record.key)).toEqual(first.slice(0, 15));

    await putItems('ToyResume', second);
    const run2 = poller([{ name: 'toy-resume', sources: [{ table: 'ToyResume' }], batchSize: 5, handler }]);
    await run2.start();
    await run2.waitForIdle();
    await run2.stop();

    expect(seen.flat().map((record) => record.key)).toEqual([...first, ...second]);
    expect(Math.max(...seen.map((batch) => batch.length))).toBeLessThanOrEqual(5);
    const sequences = seen.flat().map((record) => record.sequenceNumber);
    for (let index = 1; index < sequences.length; index += 1) {
      expect(compareSequenceNumbers(sequences[index - 1], sequences[index])).toBeLessThan(0);
    }
  });

  it('retries Kinesis records from the lowest failure, sends poison batches to the on-failure destination and moves on', async () => {
    await ensureStreams(kinesisClient, ['ToyKinesis'], 2);
    const keys = Array.from({ length: 60 }, (_, index) => `k${index}`);
    await putKinesis('ToyKinesis', keys);
    const seen: Seen[][] = [];
    const flaky = new Set(['k7', 'k31']);
    const handler = countingHandler(seen, (key) => key === 'k13' || flaky.delete(key));
    const sent: OnFailureRecord[] = [];
    const run = poller(
      [{ name: 'toy-kinesis', sources: [{ kinesisStream: 'ToyKinesis' }], batchSize: 10, invocation: { maxRetries: 2 }, handler }],
      checkpoints,
      (record) => sent.push(record),
    );
    await run.start();
    await run.waitForIdle();
    await run.stop();

    const counts = countByKey(seen);
    for (const key of keys) expect(counts.get(key)).toBeGreaterThanOrEqual(1);
    expect(counts.get('k13')).toBe(3);
    expect(sent).toHaveLength(1);
    const info = 'KinesisBatchInfo' in sent[0] ? sent[0].KinesisBatchInfo : undefined;
    const poison = seen.flat().find((record) => record.key === 'k13');
    expect(info).toMatchObject({ shardId: poison?.shard, startSequenceNumber: poison?.sequenceNumber });
    expect(info?.streamArn).toMatch(/:stream\/ToyKinesis$/);
    const stats = run.stats();
    expect(stats.onFailure).toBe(1);
    expect(stats.batchItemFailures).toBe(3 + 2);
  });

  it('re-delivers from the last stored checkpoint when checkpointing fails after a batch was applied', async () => {
    await createStreamTable('ToyCrash');
    const ids = Array.from({ length: 12 }, (_, index) => `c${index}`);
    await putItems('ToyCrash', ids);
    const seen: Seen[][] = [];
    const errors: unknown[] = [];
    const crashing = crashingCheckpoints(checkpoints, (save) => save === 2);
    const run = new LocalPoller([{ name: 'toy-crash', sources: [{ table: 'ToyCrash' }], batchSize: 4, handler: countingHandler(seen) }], {
      clients: { dynamodb, streams },
      checkpoints: crashing,
      pollIntervalMs: 20,
      restartDelayMs: 20,
      onError: (error) => errors.push(error),
    });
    await run.start();
    await run.waitForIdle();
    await run.stop();
    expect(errors).toHaveLength(1);
    expect(seen.map((batch) => batch.map((record) => record.key))).toEqual([
      ['c0', 'c1', 'c2', 'c3'],
      ['c4', 'c5', 'c6', 'c7'],
      ['c4', 'c5', 'c6', 'c7'],
      ['c8', 'c9', 'c10', 'c11'],
    ]);
  });

  it('starts a LATEST mapping at the tip and, restarted before its first batch, still delivers what arrived meanwhile', async () => {
    await ensureStreams(kinesisClient, ['ToyLatest'], 1);
    await createStreamTable('ToyLatestTable');
    await putKinesis('ToyLatest', ['old1', 'old2']);
    await putItems('ToyLatestTable', ['old3']);
    // Kinesis arrival times have millisecond precision: let the clock pass the old records' millisecond.
    const putAt = Date.now();
    while (Date.now() <= putAt) await new Promise((resolve) => setImmediate(resolve));
    const seen: Seen[][] = [];
    const mapping: PollerMapping = {
      name: 'toy-latest',
      sources: [{ kinesisStream: 'ToyLatest' }, { table: 'ToyLatestTable' }],
      startingPosition: 'LATEST',
      handler: countingHandler(seen),
    };
    const run1 = poller([mapping]);
    await run1.start();
    await run1.waitForIdle();
    await run1.stop();
    expect(seen).toEqual([]);

    await putKinesis('ToyLatest', ['new1', 'new2']);
    await putItems('ToyLatestTable', ['new3']);
    const run2 = poller([mapping]);
    await run2.start();
    await run2.waitForIdle();
    await run2.stop();
    expect([...countByKey(seen).entries()].sort()).toEqual([
      ['new1', 1],
      ['new2', 1],
      ['new3', 1],
    ]);
  });

  it('reads a split shard to its end before its children, keeping every partition key in order', async () => {
    await ensureStreams(kinesisClient, ['ToySplit'], 1);
    const keyOf = (index: number) => `key-${index % 5}`;
    const before = Array.from({ length: 20 }, (_, index) => `before-${index}`);
    const after = Array.from({ length: 20 }, (_, index) => `after-${index}`);
    const put = (values: string[]) =>
      kinesisClient.send(
        new PutRecordsCommand({
          StreamName: 'ToySplit',
          Records: values.map((value, index) => ({ PartitionKey: keyOf(index), Data: Buffer.from(value) })),
        }),
      );
    await put(before);
    await kinesisClient.send(
      new SplitShardCommand({
        StreamName: 'ToySplit',
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitUntilStreamExists({ client: kinesisClient, maxWaitTime: 30, minDelay: 1 }, { StreamName: 'ToySplit' });
    await put(after);

    const seen: Seen[][] = [];
    const run = poller([{ name: 'toy-split', sources: [{ kinesisStream: 'ToySplit' }], batchSize: 6, handler: countingHandler(seen) }]);
    await run.start();
    await run.waitForIdle();
    await run.stop();

    const delivered = seen.flat();
    expect(delivered.map((record) => record.key).sort()).toEqual([...before, ...after].sort());
    const lastParent = Math.max(...delivered.map((record, index) => (record.shard === 'shardId-000000000000' ? index : -1)));
    const firstChild = delivered.findIndex((record) => record.shard !== 'shardId-000000000000');
    expect(lastParent).toBeLessThan(firstChild);
    expect(new Set(delivered.slice(firstChild).map((record) => record.shard)).size).toBe(2);
    // Per partition key, records arrive in the order they were put.
    const order = (value: string) => (value.startsWith('before') ? 0 : 100) + Number(value.split('-')[1]);
    for (let key = 0; key < 5; key += 1) {
      const values = delivered.filter((record) => Number(record.key.split('-')[1]) % 5 === key).map((record) => order(record.key));
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
    const [parentKey] = (await checkpointKeys()).filter((key) => key.startsWith('toy-split|') && key.endsWith('|shardId-000000000000'));
    expect(await checkpoints.load(parentKey)).toMatchObject({ closed: true });
  });

  async function checkpointKeys(): Promise<string[]> {
    const { Items = [] } = await dynamodb.send(new ScanCommand({ TableName: 'ShardflowCheckpoints' }));
    return Items.map((item) => item.Shard?.S ?? '');
  }

  it('rejects invalid mappings', () => {
    const handler: StreamHandler = async () => ({ batchItemFailures: [] });
    expect(() => poller([{ name: 'x', sources: [], handler, batchSize: 0 }])).toThrow(/batchSize/);
    expect(() =>
      poller([
        { name: 'x', sources: [], handler },
        { name: 'x', sources: [], handler },
      ]),
    ).toThrow(/named "x"/);
  });
});
