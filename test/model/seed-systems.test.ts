/**
 * Model-based property test of the seed systems end to end: random source histories (score records inserted,
 * modified, moved between users and removed; tag items visited, set and removed, and the COUNTER item's own
 * changes; Kinesis score events, some KPL-aggregated) become the stream records DynamoDB Streams and Kinesis would
 * deliver, and go through the real pipeline (decoders, router, the score aggregator and tag total processors, the
 * exactly-once DynamoDB sink) under an event source mapping at its worst: duplicate deliveries raced by a second
 * function instance, retries from the lowest reported failure, bisection, crashes, and requests that fail before
 * committing, commit with a lost response, are throttled or conflict. Afterwards each user's Score equals the sum
 * of their live score records (plus their Kinesis events), and TotalViews equals the sum of Count over live tags.
 *
 * Runs: 100 by default; set SHARDFLOW_MODEL_RUNS for more.
 */
import fc from 'fast-check';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { localClientConfig } from '../../src/local/clients';
import { createScoreAggregator } from '../../src/processors/scores';
import { createTagTotal } from '../../src/processors/tags';
import type { PipelineLogger } from '../../src/runtime/logging';
import { definePipeline, type Pipeline } from '../../src/runtime/pipeline';
import type { Fault as CapturedFault, FaultSink } from '../../src/runtime/types';
import { DynamoDBSink, markerTableDefinition } from '../../src/sinks/dynamodb';
import { LogSink } from '../../src/sinks/log';
import { dynamodbRecord, kinesisRecord, kplAggregateRecord } from '../helpers/factories';
import { useDynamoDBLocal } from '../../src/testing';
import { Fault, FaultInjectingHandler, faultyClientConfig } from '../helpers/fault-injection';
import { canonicalNumber, deliverToPipeline, deliveryStats, invocationPlan, MODEL_RUNS, type DeliveryStats, type RawRecord } from './esm';

const MARKERS = 'SeedMarkers';
const SCORE_RECORDS = 'GameScoreRecords';
const SCORES_BY_USER = 'GameScoresByUser';
const PAGE_VIEWS = 'PageViews';
const SCORE_EVENTS = 'GameScoreEvents';
const USERS = ['Jane Doe', 'bob', 'carol'] as const;
const TAGS = ['cats', 'dogs', 'news'] as const;

const scoreOp = fc.oneof(
  fc.record({ op: fc.constant('put' as const), id: fc.nat(4), user: fc.nat(USERS.length - 1), score: fc.nat(20) }),
  fc.record({ op: fc.constant('remove' as const), id: fc.nat(4) }),
);
const tagOp = fc.oneof(
  fc.record({ op: fc.constant('visit' as const), tag: fc.nat(TAGS.length - 1) }),
  fc.record({ op: fc.constant('set' as const), tag: fc.nat(TAGS.length - 1), count: fc.nat(10) }),
  fc.record({ op: fc.constant('remove' as const), tag: fc.nat(TAGS.length - 1) }),
  // The sink's own write of the COUNTER item comes back on the stream and must be ignored.
  fc.record({ op: fc.constant('counter' as const), total: fc.nat(100) }),
);
/** Kinesis records of score events; several events in one record make a KPL aggregate. */
const scoreEvents = fc.array(fc.array(fc.record({ user: fc.nat(USERS.length - 1), score: fc.nat(20) }), { minLength: 1, maxLength: 3 }), {
  maxLength: 5,
});
const delivery = fc.record({
  batchSize: fc.integer({ min: 1, max: 6 }),
  bisect: fc.boolean(),
  plans: fc.array(invocationPlan, { maxLength: 5 }),
  network: fc.array(fc.constantFrom(Fault.Pass, Fault.Pass, Fault.FailBefore, Fault.LoseResponse, Fault.Throttle, Fault.Conflict), {
    maxLength: 6,
  }),
  maxAttempts: fc.constantFrom(1, 2, 3),
});
const scenario = fc.record({
  scores: fc.array(scoreOp, { minLength: 1, maxLength: 14 }),
  tags: fc.array(tagOp, { minLength: 1, maxLength: 14 }),
  events: scoreEvents,
  deliveries: fc.tuple(delivery, delivery, delivery),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;
type Delivery = Scenario['deliveries'][number];

interface Expected {
  readonly scores: ReadonlyMap<string, number>;
  readonly totalViews: number;
}

/** The stream records of a run's source history, and what the tables must hold after them. */
function history(ns: string, s: Scenario): { streams: RawRecord[][]; expected: Expected } {
  const user = (index: number) => `${ns}${USERS[index]}`;
  const scores = new Map<number, { user: string; score: number }>();
  const scoreStream: RawRecord[] = [];
  for (const op of s.scores) {
    const keys = { RecordID: op.id };
    const old = scores.get(op.id);
    const oldImage = old === undefined ? undefined : { ...keys, Username: old.user, Score: old.score };
    if (op.op === 'put') {
      const next = { user: user(op.user), score: op.score };
      // DynamoDB writes no stream record for a put that changes nothing.
      if (old !== undefined && old.user === next.user && old.score === next.score) continue;
      const newImage = { ...keys, Username: next.user, Score: next.score };
      const eventName = old === undefined ? 'INSERT' : 'MODIFY';
      scoreStream.push(dynamodbRecord({ eventName, table: SCORE_RECORDS, keys, newImage, oldImage }));
      scores.set(op.id, next);
    } else if (old !== undefined) {
      scoreStream.push(dynamodbRecord({ eventName: 'REMOVE', table: SCORE_RECORDS, keys, oldImage }));
      scores.delete(op.id);
    }
  }

  const counter = `${ns}COUNTER`;
  const tags = new Map<string, number>();
  let counterTotal: number | undefined;
  const tagStream: RawRecord[] = [];
  for (const op of s.tags) {
    if (op.op === 'counter') {
      const keys = { ID: counter };
      const oldImage = counterTotal === undefined ? undefined : { ...keys, TotalViews: counterTotal };
      const newImage = { ...keys, TotalViews: op.total };
      const eventName = oldImage === undefined ? 'INSERT' : 'MODIFY';
      tagStream.push(dynamodbRecord({ eventName, table: PAGE_VIEWS, keys, newImage, oldImage }));
      counterTotal = op.total;
      continue;
    }
    const id = `${ns}${TAGS[op.tag]}`;
    const keys = { ID: id };
    const old = tags.get(id);
    const oldImage = old === undefined ? undefined : { ...keys, Count: old };
    if (op.op === 'remove') {
      if (old === undefined) continue;
      tagStream.push(dynamodbRecord({ eventName: 'REMOVE', table: PAGE_VIEWS, keys, oldImage }));
      tags.delete(id);
      continue;
    }
    const count = op.op === 'visit' ? (old ?? 0) + 1 : op.count;
    if (count === old) continue;
    const eventName = old === undefined ? 'INSERT' : 'MODIFY';
    tagStream.push(dynamodbRecord({ eventName, table: PAGE_VIEWS, keys, newImage: { ...keys, Count: count }, oldImage }));
    tags.set(id, count);
  }

  const expectedScores = new Map<string, number>(USERS.map((_, index) => [user(index), 0]));
  for (const { user: name, score } of scores.values()) expectedScores.set(name, (expectedScores.get(name) ?? 0) + score);
  const eventStream: RawRecord[] = s.events.map((events) => {
    for (const event of events) expectedScores.set(user(event.user), (expectedScores.get(user(event.user)) ?? 0) + event.score);
    const data = events.map((event) => JSON.stringify({ Username: user(event.user), Score: event.score }));
    return events.length === 1
      ? kinesisRecord({ streamName: SCORE_EVENTS, data: data[0]! })
      : kplAggregateRecord(
          data.map((text, index) => ({ partitionKey: `pk-${index}`, data: text })),
          { streamName: SCORE_EVENTS },
        );
  });

  return {
    streams: [scoreStream, tagStream, eventStream],
    expected: { scores: expectedScores, totalViews: [...tags.values()].reduce((sum, count) => sum + count, 0) },
  };
}

const silent: PipelineLogger = { debug() {}, info() {}, warn() {}, error() {} };

describe('seed systems under at-least-once delivery', () => {
  const ddb = useDynamoDBLocal();
  let client: DynamoDBClient;
  let run = 0;
  const seen: DeliveryStats & { lostResponses: number; records: number; reported: number } = {
    ...deliveryStats(),
    lostResponses: 0,
    records: 0,
    reported: 0,
  };
  const captured: CapturedFault[] = [];
  const faultSink: FaultSink = {
    name: 'memory',
    capture: async (faults) => {
      captured.push(...faults);
    },
  };

  beforeAll(async () => {
    client = new DynamoDBClient(localClientConfig(ddb.endpoint()));
    await client.send(new CreateTableCommand(markerTableDefinition(MARKERS)));
    for (const [table, key] of [
      [SCORES_BY_USER, 'Username'],
      [PAGE_VIEWS, 'ID'],
    ] as const) {
      await client.send(
        new CreateTableCommand({
          TableName: table,
          KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    }
  });
  afterAll(() => client.destroy());

  function pipeline(ns: string, sinkClient: DynamoDBClient, maxAttempts: number): Pipeline {
    return definePipeline({
      processors: [
        createScoreAggregator({
          sourceTable: SCORE_RECORDS,
          kinesisStreams: [SCORE_EVENTS],
          targetTable: SCORES_BY_USER,
          userAttribute: 'Username',
          scoreAttribute: 'Score',
        }),
        createTagTotal({ table: PAGE_VIEWS, keyAttribute: 'ID', counterId: `${ns}COUNTER`, countAttribute: 'Count', totalAttribute: 'TotalViews' }),
      ],
      sinks: [
        new DynamoDBSink({ client: sinkClient, markerTable: MARKERS, backoff: { maxAttempts, baseDelayMs: 1, maxDelayMs: 3 } }),
        new LogSink({ logger: silent }),
      ],
      faultSink,
      options: { logger: silent },
    });
  }

  async function deliver(ns: string, records: RawRecord[], spec: Delivery): Promise<void> {
    const handler = new FaultInjectingHandler();
    handler.queue('TransactWriteItems', spec.network);
    const primary = pipeline(ns, new DynamoDBClient(faultyClientConfig(ddb.endpoint(), handler)), spec.maxAttempts);
    const secondary = pipeline(ns, client, 3);
    seen.reported += await deliverToPipeline({ records, primary, secondary, batchSize: spec.batchSize, bisect: spec.bisect, plans: spec.plans }, seen);
    seen.lostResponses += handler.count('TransactWriteItems', Fault.LoseResponse);
  }

  async function number(table: string, key: Record<string, string>, attribute: string): Promise<string> {
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: table,
        Key: Object.fromEntries(Object.entries(key).map(([name, value]) => [name, { S: value }])),
        ConsistentRead: true,
      }),
    );
    const value = Item?.[attribute];
    if (value === undefined) return '0';
    return value.N === undefined ? `not a number: ${JSON.stringify(value)}` : canonicalNumber(value.N);
  }

  it(
    `keeps Score = sum of the user's records and TotalViews = sum of Count (${MODEL_RUNS} runs)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          run += 1;
          const ns = `r${run}-`;
          const { streams, expected } = history(ns, s);
          seen.records += streams.flat().length;
          await Promise.all(streams.map((records, index) => deliver(ns, records, s.deliveries[index]!)));
          expect(captured).toEqual([]);
          const actual = new Map<string, string>();
          for (const name of expected.scores.keys()) actual.set(name, await number(SCORES_BY_USER, { Username: name }, 'Score'));
          expect(actual).toEqual(new Map([...expected.scores].map(([name, score]) => [name, String(score)])));
          expect(await number(PAGE_VIEWS, { ID: `${ns}COUNTER` }, 'TotalViews')).toBe(String(expected.totalViews));
        }),
        { numRuns: MODEL_RUNS },
      );
      if (MODEL_RUNS >= 100) {
        for (const [kind, count] of Object.entries(seen)) expect([kind, count > 0]).toEqual([kind, true]);
      }
    },
    Math.max(120_000, MODEL_RUNS * 2_000),
  );
});
