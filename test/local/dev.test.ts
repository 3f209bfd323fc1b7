/**
 * The local event source mapping end to end with the real apps on DynamoDB Local and kinesalite: traffic on the
 * GameScoreRecords and PageViews streams and the GameScoreEvents Kinesis stream, a stop midway and a restart,
 * a crash between applying a batch and checkpointing it, and `shardflow dev`'s HTTP routes.
 */
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { scoresApp, tagsApp } from '../../src/seed';
import { createTagsHttpHandlers } from '../../src/seed/tags-http';
import type { AppEnvironment } from '../../src/app/types';
import type { StreamHandler } from '../../src/runtime/types';
import { appMappings, prepareApps } from '../../src/local/apps';
import { DynamoDBCheckpointStore, type CheckpointStore } from '../../src/local/checkpoints';
import { crashingCheckpoints } from '../helpers/checkpoints';
import { startDev } from '../../src/local/dev';
import { openEnvironment, type LocalEnvironment } from '../../src/local/environment';
import { recordPosition } from '../../src/local/lambda-records';
import { LocalPoller, type PollerMapping } from '../../src/local/poller';
import { dumpTable } from '../../src/local/tables';
import { useDynamoDBLocal, useKinesalite } from '../../src/testing';

const USERS = ['Jane Doe', 'John Roe', 'Ana Silva', 'Wei Chen'];
const TAGS = ['serverless', 'dynamodb', '<b>bold</b>', 'café'];

describe('local poller with the real apps', () => {
  const ddb = useDynamoDBLocal();
  const kinesis = useKinesalite();
  let environment: LocalEnvironment;
  let appEnvironment: AppEnvironment;
  let checkpoints: DynamoDBCheckpointStore;
  let nextRecordId = 1;
  let visits = 0;
  const scoreEvents: { Username: string; Score: number }[] = [];

  beforeAll(async () => {
    environment = await openEnvironment({ dynamodbEndpoint: ddb.endpoint(), kinesisEndpoint: kinesis.endpoint(), kinesis: true });
    await prepareApps(environment, [scoresApp, tagsApp]);
    appEnvironment = { dynamodb: environment.dynamodb };
    checkpoints = new DynamoDBCheckpointStore(environment.dynamodb);
    await checkpoints.ensureTable();
  });
  afterAll(async () => {
    await environment.close();
  });

  /** Score records (inserts, modifies, removes), score events on Kinesis, and tag visits through the HTTP handler. */
  async function traffic(size: number): Promise<void> {
    const { dynamodb } = environment;
    const ids: number[] = [];
    for (let index = 0; index < size; index += 1) {
      const id = nextRecordId++;
      ids.push(id);
      await dynamodb.send(
        new PutItemCommand({
          TableName: 'GameScoreRecords',
          Item: { RecordID: { N: String(id) }, Username: { S: USERS[id % USERS.length] }, Score: { N: String((id * 37) % 100) } },
        }),
      );
    }
    for (const id of ids.filter((_, index) => index % 3 === 0)) {
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: 'GameScoreRecords',
          Key: { RecordID: { N: String(id) } },
          UpdateExpression: 'SET Score = :score, Username = :user',
          ExpressionAttributeValues: { ':score': { N: String((id * 11) % 50) }, ':user': { S: USERS[(id + 1) % USERS.length] } },
        }),
      );
    }
    for (const id of ids.filter((_, index) => index % 5 === 1)) {
      await dynamodb.send(new DeleteItemCommand({ TableName: 'GameScoreRecords', Key: { RecordID: { N: String(id) } } }));
    }
    const events = ids.map((id) => ({ Username: USERS[(id * 7) % USERS.length], Score: id % 9 }));
    await environment.kinesis?.send(
      new PutRecordsCommand({
        StreamName: 'GameScoreEvents',
        Records: events.map((event) => ({ PartitionKey: event.Username, Data: Buffer.from(JSON.stringify(event)) })),
      }),
    );
    scoreEvents.push(...events);
    const { visit } = createTagsHttpHandlers({ dynamodb });
    for (let index = 0; index < size; index += 1) {
      const response = await visit({ httpMethod: 'GET', path: '/tag/x', pathParameters: { tag: TAGS[index % TAGS.length] }, headers: {}, queryStringParameters: null });
      expect(response.statusCode).toBe(200);
      visits += 1;
    }
  }

  /** The exactly-once model of the tables, from the source data, compared with what the apps wrote. */
  async function expectExactTables(): Promise<void> {
    const expected: Record<string, number> = {};
    for (const record of await dumpTable(environment.dynamodb, 'GameScoreRecords')) {
      expected[String(record.Username)] = (expected[String(record.Username)] ?? 0) + Number(record.Score);
    }
    for (const event of scoreEvents) expected[event.Username] = (expected[event.Username] ?? 0) + event.Score;
    const totals = Object.fromEntries((await dumpTable(environment.dynamodb, 'GameScoresByUser')).map((item) => [item.Username, item.Score]));
    for (const user of USERS) expect([user, totals[user] ?? 0]).toEqual([user, expected[user] ?? 0]);
    const pageViews = await dumpTable(environment.dynamodb, 'PageViews');
    const counter = pageViews.find((item) => item.ID === 'COUNTER');
    const sumOfCounts = pageViews.filter((item) => item.ID !== 'COUNTER').reduce((sum, item) => sum + Number(item.Count), 0);
    expect({ totalViews: counter?.TotalViews, sumOfCounts }).toEqual({ totalViews: visits, sumOfCounts: visits });
  }

  /** Wraps every mapping's handler to note the records it is given. */
  function observed(mappings: PollerMapping[], delivered: string[], after?: (invocations: number) => void): PollerMapping[] {
    let invocations = 0;
    return mappings.map((mapping) => {
      const handler: StreamHandler = async (event, context) => {
        const response = await mapping.handler(event, context);
        const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        for (const record of event.Records) {
          const position = recordPosition(record);
          if (!failed.has(position.sequenceNumber ?? '')) delivered.push(`${position.streamArn}|${position.sequenceNumber}`);
        }
        after?.(++invocations);
        return response;
      };
      return { ...mapping, handler };
    });
  }

  const newPoller = (mappings: PollerMapping[], store: CheckpointStore = checkpoints, onError?: (error: unknown) => void) =>
    new LocalPoller(mappings, {
      clients: { dynamodb: environment.dynamodb, streams: environment.streams, kinesis: environment.kinesis },
      checkpoints: store,
      pollIntervalMs: 20,
      restartDelayMs: 20,
      ...(onError !== undefined && { onError }),
    });

  it('stops midway and resumes on restart without losing or repeating a record', async () => {
    await traffic(40);
    const delivered: string[] = [];
    let stopping: Promise<void> | undefined;
    const first = newPoller(
      observed(appMappings([scoresApp, tagsApp], appEnvironment, { batchSize: 10 }), delivered, (invocations) => {
        // Stop from inside the third invocation: batches in flight finish, nothing new starts.
        if (invocations === 3) stopping = first.stop();
      }),
    );
    await first.start();
    while (stopping === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    await stopping;
    const firstRun = delivered.length;
    // Three shards: the third invocation plus at most one batch of 10 in flight on each other shard.
    expect(firstRun).toBeGreaterThanOrEqual(30);
    expect(firstRun).toBeLessThanOrEqual(50);

    await traffic(10);
    const second = newPoller(observed(appMappings([scoresApp, tagsApp], appEnvironment, { batchSize: 10 }), delivered));
    await second.start();
    await second.waitForIdle();
    await second.stop();

    expect(delivered.length).toBeGreaterThan(firstRun);
    expect(new Set(delivered).size).toBe(delivered.length);
    await expectExactTables();
  });

  it('absorbs the re-delivery after a crash between applying a batch and checkpointing it', async () => {
    await traffic(20);
    const errors: unknown[] = [];
    const crashing = crashingCheckpoints(checkpoints, (save) => save % 3 === 0);
    const delivered: string[] = [];
    const poller = newPoller(observed(appMappings([scoresApp, tagsApp], appEnvironment, { batchSize: 7 }), delivered), crashing, (error) =>
      errors.push(error),
    );
    await poller.start();
    await poller.waitForIdle();
    await poller.stop();
    expect(errors.length).toBeGreaterThan(0);
    // Records after each lost checkpoint were delivered again, and the sinks applied them once.
    expect(new Set(delivered).size).toBeLessThan(delivered.length);
    await expectExactTables();
  });

  it('serves the tags HTTP routes in dev and picks up where the last session stopped', async () => {
    const options = { dynamodbEndpoint: ddb.endpoint(), kinesisEndpoint: kinesis.endpoint(), apps: [tagsApp], pollIntervalMs: 20, log: () => undefined };
    for (let session = 0; session < 2; session += 1) {
      const dev = await startDev(options);
      try {
        const url = dev.http.get(tagsApp.name)?.url;
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        for (let index = 0; index < 5; index += 1) {
          const response = await fetch(`${url}/tag/${encodeURIComponent('<b>bold</b>')}?format=json`);
          expect(response.status).toBe(200);
          visits += 1;
        }
        await dev.poller.waitForIdle();
        const page = await fetch(`${url}/counts/${encodeURIComponent('<b>bold</b>')}`);
        const html = await page.text();
        expect(html).toContain('&lt;b&gt;bold&lt;/b&gt;');
        expect(html).not.toContain('<b>bold</b>');
        const counts = (await (await fetch(`${url}/counts/serverless?format=json`)).json()) as { totalViews: number };
        expect(counts.totalViews).toBe(visits);
        expect((await fetch(`${url}/nothing/here`)).status).toBe(404);
      } finally {
        // Stopping the session must not stop the test's own services (they were given as endpoints).
        await dev.stop();
      }
    }
    await expectExactTables();
  });
});
