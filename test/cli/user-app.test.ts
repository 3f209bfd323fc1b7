/**
 * The built CLI (dist/cli/main.js, as `npx shardflow` runs it) on a user's app that is not in the repo: a folder in
 * the temp directory whose TypeScript modules import 'shardflow' from their own node_modules, the way an installed
 * package is found. Replay and dev load the app module without a build step; a bare handler replays with --handler.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { localClientConfig } from '../../src/local/clients';
import { ensureStreams, ensureTables, openEnvironment } from '../../src/local/environment';
import { dumpTable } from '../../src/local/tables';
import { kinesisEvent, kinesisRecord } from '../helpers/factories';
import { useDynamoDBLocal, useKinesalite } from '../../src/testing';

const repo = resolve(__dirname, '..', '..');
const cli = join(repo, 'dist', 'cli', 'main.js');
const ddb = useDynamoDBLocal();
const kinesis = useKinesalite();

const TOTALS_TABLE = {
  TableName: 'CustomerTotals',
  KeySchema: [{ AttributeName: 'customer', KeyType: 'HASH' as const }],
  AttributeDefinitions: [{ AttributeName: 'customer', AttributeType: 'S' as const }],
  BillingMode: 'PAY_PER_REQUEST' as const,
};

/** The user's project: processors and an app definition, importing shardflow by its package name. */
const APP_SOURCE = `
import { ValidationError, defineApp, provenanceOf, type AddEffect, type Processor } from 'shardflow';

const paidTotals: Processor<AddEffect> = {
  name: 'paid-totals',
  select: { sources: ['aws:kinesis'], streams: ['checkout-events'] },
  process(record) {
    if (record.source !== 'aws:kinesis') return [];
    const order = record.payload.json() as { customer?: unknown; total?: unknown };
    if (typeof order.customer !== 'string' || typeof order.total !== 'number') {
      throw new ValidationError(\`Record \${record.recordId} is not an order.\`);
    }
    return [{ type: 'add', provenance: provenanceOf(record), table: 'CustomerTotals', key: { customer: order.customer }, add: { paid: order.total } }];
  },
};

const definition = {
  sources: { kinesisStreams: ['checkout-events'] },
  outputs: [${JSON.stringify(TOTALS_TABLE)}],
  eventSource: { batchSize: 10 },
  processors: [paidTotals],
};

export default defineApp({ name: 'checkout', ...definition });
export const renamed = defineApp({ name: 'checkout-renamed', ...definition });
export const notAnApp = { name: 'checkout', processors: [paidTotals] };
`;

/** A bare Lambda handler: the user's own wiring, with its own client (pointed at the tables by the CLI). */
const BARE_HANDLER_SOURCE = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBSink, createHandler, definePipeline, provenanceOf, type AddEffect, type Processor } from 'shardflow';

const totals: Processor<AddEffect> = {
  name: 'bare-totals',
  select: { sources: ['aws:kinesis'] },
  process(record) {
    if (record.source !== 'aws:kinesis') return [];
    const order = record.payload.json() as { customer: string; total: number };
    return [{ type: 'add', provenance: provenanceOf(record), table: 'BareTotals', key: { customer: order.customer }, add: { paid: order.total } }];
  },
};
const client = new DynamoDBClient({});
export const handler = createHandler(
  definePipeline({ processors: [totals], sinks: [new DynamoDBSink({ client, markerTable: 'BareMarkers', tables: ['BareTotals'] })] }),
);
`;

let project: string;
let client: DynamoDBClient;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'shardflow-user-app-'));
  mkdirSync(join(project, 'node_modules'));
  // What `npm install shardflow` gives the user: the package under its name, with its built dist/.
  symlinkSync(repo, join(project, 'node_modules', 'shardflow'), 'dir');
  // The user's own dependency: their bare handler makes its own client.
  mkdirSync(join(project, 'node_modules', '@aws-sdk'));
  symlinkSync(join(repo, 'node_modules', '@aws-sdk', 'client-dynamodb'), join(project, 'node_modules', '@aws-sdk', 'client-dynamodb'), 'dir');
  writeFileSync(join(project, 'app.ts'), APP_SOURCE);
  client = new DynamoDBClient(localClientConfig(ddb.endpoint()));
});

afterAll(() => {
  client?.destroy();
  rmSync(project, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function start(args: readonly string[]): { readonly done: Promise<Run>; interrupt(): void } {
  const child = spawn(process.execPath, [cli, ...args], { cwd: project, env: { ...process.env, AWS_REGION: 'us-east-1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
  return { done, interrupt: () => child.kill('SIGINT') };
}

const shardflow = (args: readonly string[]): Promise<Run> => start(args).done;

/** Polls `check` until it holds; the test's own timeout bounds the wait. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
}

function writeRecording(name: string, events: readonly object[]): string {
  const path = join(project, name);
  writeFileSync(path, events.map((event) => JSON.stringify(event)).join('\n') + '\n');
  return path;
}

const order = (customer: string, total: unknown, arrivalSeconds?: number) =>
  kinesisRecord({ streamName: 'checkout-events', partitionKey: customer, json: { customer, total }, ...(arrivalSeconds !== undefined && { arrivalSeconds }) });

describe('shardflow replay with a user app module', () => {
  it('creates the app tables, applies each order once over duplicated deliveries, and reports the totals', async () => {
    const first = kinesisEvent([order('ana', 10, 1_000), order('bo', 5, 1_001), order('ana', 'lots', 1_002)]);
    const second = kinesisEvent([order('ana', 2.5, 1_060)]);
    // The first batch comes again after the second: a duplicate, and a late one.
    const recording = writeRecording('orders.jsonl', [first, second, first]);

    const run = await shardflow(['replay', recording, '--app', './app.ts', '--endpoint', ddb.endpoint(), '--json']);
    expect(run.stderr).not.toMatch(/shardflow: /);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      app: string;
      totals: Record<string, number>;
      faults: { recordId: string }[];
      tables: Record<string, unknown[]>;
    };
    expect(summary.app).toBe('checkout');
    expect(summary.tables.CustomerTotals).toEqual([
      { customer: 'ana', paid: 12.5 },
      { customer: 'bo', paid: 5 },
    ]);
    // Every invocation counts what it saw: the duplicated delivery's records come in again and are skipped by the sink.
    expect(summary.totals).toMatchObject({ batches: 3, recordsIn: 7, processed: 5, faulted: 2, unrouted: 0, failed: 0, duplicatesSkipped: 2 });
    expect(summary.totals.sinkRequests).toBeGreaterThanOrEqual(3);
    expect(summary.faults.map((fault) => fault.recordId)).toEqual([first.Records[2].eventID]);
    // Iterator age on the recording's own timeline: the late batch lags the latest record seen by 58 s, not months.
    expect(summary.totals.maxIteratorAgeMs).toBe(58_000);
  });

  it('takes a named export, and names what is missing from a module that is not an app', async () => {
    const recording = writeRecording('one.jsonl', [kinesisEvent([order('cy', 1)])]);
    const renamed = await shardflow(['replay', recording, '--app', './app.ts#renamed', '--endpoint', ddb.endpoint(), '--json']);
    expect(renamed.code).toBe(0);
    expect(JSON.parse(renamed.stdout)).toMatchObject({ app: 'checkout-renamed' });

    const invalid = await shardflow(['replay', recording, '--app', './app.ts#notAnApp', '--endpoint', ddb.endpoint()]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/\.\/app\.ts#notAnApp: not an app definition \(make it with defineApp from 'shardflow'\): missing or wrong sources \(object\), outputs \(object\), tables \(object\), eventSource \(object\), faultTable \(string\), deadlineMarginMs \(number\), createHandler \(function\)/);

    const missing = await shardflow(['replay', recording, '--app', './app.ts#nothing', '--endpoint', ddb.endpoint()]);
    expect(missing.stderr).toMatch(/has no export "nothing" to use as an app; its exports are default, notAnApp, renamed/);
    const unknown = await shardflow(['replay', recording, '--app', 'checkout', '--endpoint', ddb.endpoint()]);
    expect(unknown.stderr).toMatch(/Unknown app "checkout": give a built-in app \(scores, tags, orders, kinesis-log\) or the path of a module/);
  });

  it('warns about records no processor selects, naming their stream', async () => {
    const elsewhere = kinesisEvent([kinesisRecord({ streamName: 'refunds', json: { customer: 'ana', total: 1 } })]);
    const run = await shardflow(['replay', writeRecording('refunds.jsonl', [elsewhere]), '--app', './app.ts', '--endpoint', ddb.endpoint()]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('Warning: no processor selected some records (1 from refunds)');
    expect(run.stdout).toContain('1 unrouted');
  });
});

describe('shardflow replay --handler', () => {
  it('replays a bare handler against existing tables, its clients pointed at --endpoint', async () => {
    writeFileSync(join(project, 'bare.ts'), BARE_HANDLER_SOURCE);
    await ensureTables(client, [
      { ...TOTALS_TABLE, TableName: 'BareTotals' },
      { TableName: 'BareMarkers', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' },
    ]);
    const recording = writeRecording('bare.jsonl', [kinesisEvent([order('di', 4), order('di', 6)])]);

    const needsEndpoint = await shardflow(['replay', recording, '--handler', './bare.ts#handler']);
    expect(needsEndpoint.stderr).toMatch(/--handler replays against existing tables: give --endpoint/);

    const run = await shardflow(['replay', recording, '--handler', './bare.ts#handler', '--endpoint', ddb.endpoint(), '--table', 'BareTotals', '--json']);
    expect(run.stderr).not.toMatch(/shardflow: /);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { totals: Record<string, number>; tables: Record<string, unknown[]> };
    expect(summary.tables.BareTotals).toEqual([{ customer: 'di', paid: 10 }]);
    expect(summary.totals).toMatchObject({ batches: 1, recordsIn: 2, processed: 2 });
    expect(await dumpTable(client, 'BareTotals')).toEqual([{ customer: 'di', paid: 10 }]);
  });
});

describe('shardflow dev with a user app module', () => {
  it('polls the app stream like a mapping, applies the records, and prints the totals when stopped', async () => {
    const environment = await openEnvironment({ dynamodbEndpoint: ddb.endpoint(), kinesisEndpoint: kinesis.endpoint(), kinesis: true });
    try {
      await ensureStreams(environment.kinesis!, ['checkout-events']);
      await environment.kinesis!.send(
        new PutRecordsCommand({
          StreamName: 'checkout-events',
          Records: [
            { PartitionKey: 'ed', Data: Buffer.from(JSON.stringify({ customer: 'ed', total: 3 })) },
            { PartitionKey: 'ed', Data: Buffer.from(JSON.stringify({ customer: 'ed', total: 4 })) },
          ],
        }),
      );
      const dev = start(['dev', '--app', './app.ts', '--dynamodb-endpoint', ddb.endpoint(), '--kinesis-endpoint', kinesis.endpoint(), '--poll-interval', '50']);
      // dev polls until interrupted: stop it once the records are in the table.
      await eventually(async () => (await dumpTable(client, 'CustomerTotals').catch(() => [])).some((item) => item.customer === 'ed'));
      dev.interrupt();
      const run = await dev.done;
      expect(run.code).toBe(0);
      expect(await dumpTable(client, 'CustomerTotals')).toContainEqual({ customer: 'ed', paid: 7 });
      expect(run.stderr).toMatch(/checkout: Totals over \d+ batches: 2 records in, 2 processed/);

      // record --app captures every stream the app consumes into one recording that replay takes.
      const recording = join(project, 'recorded.jsonl');
      const recorded = await shardflow(['record', '--app', './app.ts', '-o', recording, '--dynamodb-endpoint', ddb.endpoint(), '--kinesis-endpoint', kinesis.endpoint()]);
      expect(recorded.code).toBe(0);
      expect(recorded.stderr).toMatch(/Wrote 2 records in \d+ deliveries from 1 shard\(s\)/);
      const replayed = await shardflow(['replay', recording, '--app', './app.ts#renamed', '--endpoint', ddb.endpoint(), '--json']);
      expect(JSON.parse(replayed.stdout)).toMatchObject({ records: 2, totals: { processed: 2 } });
    } finally {
      await environment.close();
    }
  });
});
