/**
 * `npm start`: the whole system on one machine. Starts DynamoDB Local and kinesalite, creates the seed tables and
 * streams, drives traffic (tag visits through the HTTP handlers; game score records with modifies and removes;
 * score events, orders and Lab-Stream records), processes it through the local poller, and checks the results:
 * TotalViews equals the sum of Count, each user's Score equals the sum of their records. Resolves `ok: false`
 * when a check fails.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { DEFAULT_FAULT_TABLE, DynamoDBFaultSink } from '../index';
import { divertStream, dumpTable, startDev, type DevSession } from '../local/index';
import { kinesisLogApp, ordersApp, seedApps, tagsApp } from './index';
import { COUNTER_ID, GAME_SCORE_EVENTS, GAME_SCORE_RECORDS, GAME_SCORES_BY_USER, LAB_STREAM, ORDERS, PAGE_VIEWS } from './tables';

export interface DemoOptions {
  /** Multiplies the amount of traffic. @default 1 */
  readonly scale?: number;
  /** The apps' own log lines (JSON) go to this file. @default '.shardflow/demo.log' */
  readonly logFile?: string;
  /** Seed of the traffic generator. @default 1 */
  readonly seed?: number;
}

export interface DemoCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface DemoResult {
  readonly ok: boolean;
  readonly checks: readonly DemoCheck[];
  readonly records: number;
  readonly seconds: number;
}

/** mulberry32: a small seeded generator, so every run drives the same traffic. */
function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) await work(items[index]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function putKinesis(client: KinesisClient, stream: string, entries: readonly { key: string; data: string }[]): Promise<void> {
  for (let start = 0; start < entries.length; start += 100) {
    const chunk = entries.slice(start, start + 100);
    const response = await client.send(
      new PutRecordsCommand({ StreamName: stream, Records: chunk.map((entry) => ({ PartitionKey: entry.key, Data: Buffer.from(entry.data) })) }),
    );
    if ((response.FailedRecordCount ?? 0) > 0) throw new Error(`${response.FailedRecordCount} records could not be put on ${stream}.`);
  }
}

const USERS = ['Jane Doe', 'John Roe', 'Ana Silva', 'Wei Chen', 'Olu Ade', 'Mara Ivanova'];
const TAGS = ['serverless', 'dynamodb', 'kinesis', 'lambda', 'typescript', '<script>alert(1)</script>', 'C++ & Rust', 'café', 'a/b'];
const POISON_RECORD_ID = 999_999;

/** What the demo sent, for the checks. */
interface Traffic {
  visits: number;
  readonly scoreEvents: { readonly Username: string; readonly Score: number }[];
  readonly orders: number;
  readonly labRecords: number;
}

type Print = (line: string) => Promise<void>;

async function driveTraffic(session: DevSession, scale: number, random: () => number, print: Print): Promise<Traffic> {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const { dynamodb, kinesis } = session.environment;
  const http = session.http.get(tagsApp.name);
  if (kinesis === undefined || http === undefined) throw new Error('The demo needs Kinesis and the tags HTTP routes.');
  const traffic: Traffic = { visits: 0, scoreEvents: [], orders: 30 * scale, labRecords: 300 * scale };

  // Tag visits through the HTTP handlers.
  const visitTags = Array.from({ length: 300 * scale }, () => pick(TAGS));
  await inParallel(visitTags, 8, async (tag) => {
    const response = await fetch(`${http.url}/tag/${encodeURIComponent(tag)}?format=json`);
    const body = await response.text();
    if (response.status !== 200) throw new Error(`GET /tag/${tag} answered ${response.status}: ${body}`);
    traffic.visits += 1;
  });
  await print(`Traffic: ${traffic.visits} tag visits through GET /tag/{tag}`);

  // Game score records: inserts, then modifies, then removes.
  // Every random choice is made before the writes run concurrently, so each run drives the same traffic.
  const inserts = Array.from({ length: 250 * scale }, (_, index) => ({ id: index + 1, user: pick(USERS), score: Math.floor(random() * 1000) }));
  const recordIds = inserts.map((insert) => insert.id);
  await inParallel(inserts, 8, async ({ id, user, score }) => {
    await dynamodb.send(
      new PutItemCommand({
        TableName: GAME_SCORE_RECORDS,
        Item: { RecordID: { N: String(id) }, Username: { S: user }, Score: { N: String(score) } },
      }),
    );
  });
  // A record whose Score is not a number: captured as a fault with its data, not counted, blocking nothing.
  await dynamodb.send(
    new PutItemCommand({
      TableName: GAME_SCORE_RECORDS,
      Item: { RecordID: { N: String(POISON_RECORD_ID) }, Username: { S: 'Jane Doe' }, Score: { S: 'lots' } },
    }),
  );
  // A quarter of the modifies move the record to another user. Two modifies of one record may race: the checks
  // read the final records, so either order is right.
  const modified = Array.from({ length: 80 * scale }, () => ({
    id: pick(recordIds),
    score: Math.floor(random() * 1000),
    user: random() < 0.25 ? pick(USERS) : undefined,
  }));
  await inParallel(modified, 8, async ({ id, score, user }) => {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: GAME_SCORE_RECORDS,
        Key: { RecordID: { N: String(id) } },
        UpdateExpression: user === undefined ? 'SET Score = :score' : 'SET Score = :score, Username = :user',
        ExpressionAttributeValues: { ':score': { N: String(score) }, ...(user !== undefined && { ':user': { S: user } }) },
      }),
    );
  });
  const removed = [...new Set(Array.from({ length: 40 * scale }, () => pick(recordIds)))];
  await inParallel(removed, 8, async (id) => {
    await dynamodb.send(new DeleteItemCommand({ TableName: GAME_SCORE_RECORDS, Key: { RecordID: { N: String(id) } } }));
  });
  traffic.scoreEvents.push(...Array.from({ length: 100 * scale }, () => ({ Username: pick(USERS), Score: Math.floor(random() * 100) })));
  await putKinesis(kinesis, GAME_SCORE_EVENTS, traffic.scoreEvents.map((event) => ({ key: event.Username, data: JSON.stringify(event) })));
  await print(
    `Traffic: ${recordIds.length + 1} score records inserted (one with a Score that is not a number), ${modified.length} modified, ` +
      `${removed.length} removed; ${traffic.scoreEvents.length} score events on ${GAME_SCORE_EVENTS}`,
  );

  const orders = Array.from({ length: traffic.orders }, (_, index) => ({ id: index + 1, amount: Math.floor(random() * 500) + 1 }));
  await inParallel(orders, 4, async (order) => {
    await dynamodb.send(new PutItemCommand({ TableName: ORDERS, Item: { Id: { N: String(order.id) }, Amount: { N: String(order.amount) } } }));
  });
  const labRecords = Array.from({ length: traffic.labRecords }, (_, index) => ({
    key: `device-${index % 16}`,
    data: index % 5 === 0 ? `plain text line ${index}` : JSON.stringify({ event: pick(['click', 'view', 'buy']), n: index }),
  }));
  await putKinesis(kinesis, LAB_STREAM, labRecords);
  await print(`Traffic: ${orders.length} orders, ${labRecords.length} records on ${LAB_STREAM}`);
  return traffic;
}

async function verify(session: DevSession, traffic: Traffic, logged: ReadonlyMap<string, ReadonlySet<string>>): Promise<DemoCheck[]> {
  const { dynamodb } = session.environment;
  const checks: DemoCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  const pageViews = await dumpTable(dynamodb, PAGE_VIEWS);
  const counter = pageViews.find((item) => item.ID === COUNTER_ID);
  const tagItems = pageViews.filter((item) => item.ID !== COUNTER_ID);
  const sumOfCounts = tagItems.reduce((sum, item) => sum + Number(item.Count ?? 0), 0);
  const totalViews = Number(counter?.TotalViews ?? 0);
  check('TotalViews equals the sum of Count', totalViews === sumOfCounts, `TotalViews ${totalViews}, sum of Count over ${tagItems.length} tags ${sumOfCounts}`);
  check('every visit counted exactly once', totalViews === traffic.visits, `${traffic.visits} visits, TotalViews ${totalViews}`);
  const http = session.http.get(tagsApp.name);
  if (http !== undefined) {
    const tag = TAGS[5];
    const response = await fetch(`${http.url}/counts/${encodeURIComponent(tag)}?format=json`);
    const shown = (await response.json()) as { count?: unknown; totalViews?: unknown };
    const stored = Number(tagItems.find((item) => item.ID === tag)?.Count ?? 0);
    check(
      'GET /counts/{tag} shows the stored counts',
      shown.totalViews === totalViews && shown.count === stored,
      `${tag}: count ${String(shown.count)} (stored ${stored}), totalViews ${String(shown.totalViews)}`,
    );
  }

  const expected = new Map<string, number>();
  const add = (user: string, score: number) => expected.set(user, (expected.get(user) ?? 0) + score);
  for (const record of await dumpTable(dynamodb, GAME_SCORE_RECORDS)) {
    if (typeof record.Username === 'string' && typeof record.Score === 'number' && Number.isSafeInteger(record.Score)) {
      add(record.Username, record.Score);
    }
  }
  for (const event of traffic.scoreEvents) add(event.Username, event.Score);
  const totals = new Map((await dumpTable(dynamodb, GAME_SCORES_BY_USER)).map((item) => [String(item.Username), Number(item.Score ?? 0)]));
  for (const user of [...new Set([...expected.keys(), ...totals.keys()])].sort()) {
    const want = expected.get(user) ?? 0;
    const have = totals.get(user) ?? 0;
    check(`${user}: Score equals the sum of their records`, want === have, `Score ${have}, sum of records and score events ${want}`);
  }

  const faults = await new DynamoDBFaultSink({ client: dynamodb, table: DEFAULT_FAULT_TABLE }).listFaults();
  const poison = faults.filter((fault) => fault.provenance.streamArn?.includes(`table/${GAME_SCORE_RECORDS}/`) === true);
  check(
    'the bad score record was captured as a fault, nothing else',
    faults.length === 1 && poison.length === 1,
    faults.map((fault) => `${fault.stage}: ${fault.error.message}`).join(' | ') || 'no faults',
  );
  const labLogged = logged.get(kinesisLogApp.name)?.size ?? 0;
  check(`every ${LAB_STREAM} record logged`, labLogged === traffic.labRecords, `${labLogged} of ${traffic.labRecords} records logged`);
  const ordersLogged = logged.get(ordersApp.name)?.size ?? 0;
  check(`every ${ORDERS} change logged`, ordersLogged === traffic.orders, `${ordersLogged} of ${traffic.orders} changes logged`);
  const stats = session.poller.stats();
  check('no batch exhausted its retries', stats.onFailure === 0, `${stats.onFailure} on-failure records`);
  return checks;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const scale = options.scale ?? 1;
  const random = randomGenerator(options.seed ?? 1);
  const logFile = options.logFile ?? join('.shardflow', 'demo.log');
  await mkdir(dirname(logFile), { recursive: true });
  const logStream = createWriteStream(logFile, { flags: 'w' });
  // Which records each app logged (by service), read from the apps' JSON log lines as they are written.
  const logged = new Map<string, Set<string>>();
  let partial = '';
  // Powertools writes INFO to stdout and WARN/ERROR to stderr: both go to the log file.
  const errors = divertStream(process.stderr, (chunk) => logStream.write(chunk));
  const output = divertStream(process.stdout, (chunk) => {
    logStream.write(chunk);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      let entry: { service?: unknown; record?: { recordId?: unknown } };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      if (typeof entry.service === 'string' && typeof entry.record?.recordId === 'string') {
        const ids = logged.get(entry.service) ?? new Set<string>();
        ids.add(entry.record.recordId);
        logged.set(entry.service, ids);
      }
    }
  });
  const print: Print = (line) => output.write(`${line}\n`);
  const started = Date.now();
  try {
    await print('shardflow demo: starting DynamoDB Local and kinesalite on loopback...');
    const session = await startDev({ apps: seedApps, pollIntervalMs: 100, log: (message) => void print(`  ${message}`) });
    try {
      await print(
        `Services up in ${((Date.now() - started) / 1000).toFixed(1)} s: DynamoDB ${session.environment.describe.dynamodb}, ` +
          `Kinesis ${session.environment.describe.kinesis ?? '-'}, tags HTTP ${session.http.get(tagsApp.name)?.url ?? '-'}; handler logs in ${logFile}`,
      );
      const processingStarted = Date.now();
      const rate = () => {
        const stats = session.poller.stats();
        const seconds = Math.max(0.001, (Date.now() - processingStarted) / 1000);
        return `${stats.records} records in ${stats.invocations} invocations, ${seconds.toFixed(1)} s (${Math.round(stats.records / seconds)} records/s)`;
      };
      const progress = setInterval(() => void print(`  processed ${rate()}`), 1000);
      let traffic: Traffic;
      try {
        traffic = await driveTraffic(session, scale, random, print);
        await session.poller.waitForIdle();
      } finally {
        clearInterval(progress);
      }
      const stats = session.poller.stats();
      await print(`Processed ${rate()}; ${stats.batchItemFailures} batch item failures reported and retried`);
      const checks = await verify(session, traffic, logged);
      for (const entry of checks) await print(`  ${entry.ok ? 'ok  ' : 'FAIL'} ${entry.name}: ${entry.detail}`);
      const ok = checks.every((entry) => entry.ok);
      const seconds = (Date.now() - started) / 1000;
      await print(ok ? `All ${checks.length} checks hold (${seconds.toFixed(1)} s).` : `${checks.filter((entry) => !entry.ok).length} checks failed.`);
      return { ok, checks, records: stats.records, seconds };
    } finally {
      await session.stop();
    }
  } finally {
    output.restore();
    errors.restore();
    await new Promise<void>((resolve) => logStream.end(resolve));
  }
}
