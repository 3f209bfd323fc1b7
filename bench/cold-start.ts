/**
 * Cold start of each seed app as Lambda runs it: the app's entry bundled the way ShardflowApp bundles it, loaded by
 * a fresh Node process, its handler built and run once on an empty batch (what a function's first invocation does),
 * against a baseline bundle that only imports the DynamoDB client and creates one on its first invocation. The
 * bundles run in turns, a run each in order, so a change of load on the machine moves every bundle alike. Measured
 * in CPU time of the process (user + system, Node's start included), which other load on a shared machine inflates
 * less than wall time; wall time is reported too. The process starts with only PATH and what Lambda sets, and its
 * output goes nowhere: a shell's variables (NODE_EXTRA_CA_CERTS loads certificates at start) would inflate both sides.
 * Lambda's runtime adds its own start to both sides, which a bare Node process does not have.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

export interface ColdStartOptions {
  /** Where the bundles and the harness are written. */
  readonly directory: string;
  /** Processes per bundle. */
  readonly runs: number;
  /** esbuild settings of the deployed bundles. */
  readonly bundling: Readonly<Record<string, unknown>>;
}

/** Medians over the runs, CPU time unless said. */
interface Measured {
  readonly bundleBytes: number;
  /** From the process's start to its first invocation's end: Node's start, the import, the handler's build, an empty batch. */
  readonly processMs: number;
  /** The import and the first invocation alone (what the code, not Node, costs). */
  readonly importAndBuildMs: number;
  readonly processWallMs: number;
}

export interface BundleResult extends Measured {
  readonly processVsBaseline: number;
  readonly importAndBuildVsBaseline: number;
  readonly processWallVsBaseline: number;
}

export interface ColdStartReport {
  readonly runs: number;
  readonly baseline: Measured;
  readonly apps: Record<string, BundleResult>;
  /** The goal is judged on the whole process's CPU time, what Lambda's initialization and first invocation take. */
  readonly goal: number;
  readonly goalMet: boolean;
}

const ROOT = join(__dirname, '..');
const SEED_APPS = { scores: 'scoresApp', tags: 'tagsApp', orders: 'ordersApp', 'kinesis-log': 'kinesisLogApp' } as const;
const GOAL = 1.1;

const BASELINE_ENTRY = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
let client: DynamoDBClient | undefined;
export const handler = async () => {
  client ??= new DynamoDBClient({});
  return { batchItemFailures: [] };
};
`;

const appEntry = (file: string, app: string) => `
import { lambdaHandler } from './src/index';
import { ${app} } from './src/seed/${file}';
export const handler = lambdaHandler(${app});
`;

/** Loads a bundle, runs its handler once on an empty batch, and writes what it measured. */
const HARNESS = `
const cpu = () => { const used = process.cpuUsage(); return (used.user + used.system) / 1000; };
const started = cpu();
const { handler } = require(process.argv[2]);
const context = {
  functionName: 'cold-start', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:cold-start',
  memoryLimitInMB: '512', awsRequestId: 'cold-start', logGroupName: '/aws/lambda/cold-start', logStreamName: 'cold-start',
  getRemainingTimeInMillis: () => 60000, callbackWaitsForEmptyEventLoop: true,
};
Promise.resolve(handler({ Records: [] }, context)).then(() => {
  const built = cpu();
  require('node:fs').writeFileSync(process.argv[3], JSON.stringify({ processMs: built, importAndBuildMs: built - started, processWallMs: performance.now() }));
});
`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function bundle(directory: string, name: string, contents: string, bundling: ColdStartOptions['bundling']): string {
  const outfile = join(directory, `${name}.js`);
  buildSync({ ...bundling, stdin: { contents, resolveDir: ROOT, sourcefile: `${name}.ts`, loader: 'ts' }, outfile });
  return outfile;
}

export async function measureColdStarts(options: ColdStartOptions): Promise<ColdStartReport> {
  const bundles: Record<string, string> = { baseline: bundle(options.directory, 'baseline', BASELINE_ENTRY, options.bundling) };
  for (const [name, app] of Object.entries(SEED_APPS)) bundles[name] = bundle(options.directory, name, appEntry(name, app), options.bundling);
  const harness = join(options.directory, 'cold-start-harness.js');
  writeFileSync(harness, HARNESS);
  const samples = new Map<string, { processMs: number[]; importAndBuildMs: number[]; processWallMs: number[] }>(
    Object.keys(bundles).map((name) => [name, { processMs: [], importAndBuildMs: [], processWallMs: [] }]),
  );
  const out = join(options.directory, 'cold-start.json');
  for (let run = 0; run < options.runs; run++) {
    for (const [name, file] of Object.entries(bundles)) {
      const { status, stderr } = spawnSync(process.execPath, [harness, file, out], {
        // What Lambda sets; no credentials are needed, nothing is sent.
        env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'cold-start', LAMBDA_TASK_ROOT: options.directory },
        stdio: ['ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
      });
      if (status !== 0) throw new Error(`The ${name} bundle failed to start: ${stderr.slice(0, 2000)}`);
      const measured = JSON.parse(readFileSync(out, 'utf8')) as { processMs: number; importAndBuildMs: number; processWallMs: number };
      const sample = samples.get(name)!;
      sample.processMs.push(measured.processMs);
      sample.importAndBuildMs.push(measured.importAndBuildMs);
      sample.processWallMs.push(measured.processWallMs);
    }
  }
  const summary = (name: string): Measured => ({
    bundleBytes: statSync(bundles[name]!).size,
    processMs: round(median(samples.get(name)!.processMs)),
    importAndBuildMs: round(median(samples.get(name)!.importAndBuildMs)),
    processWallMs: round(median(samples.get(name)!.processWallMs)),
  });
  const baseline = summary('baseline');
  const apps: Record<string, BundleResult> = {};
  for (const name of Object.keys(SEED_APPS)) {
    const app = summary(name);
    apps[name] = {
      ...app,
      processVsBaseline: round(app.processMs / baseline.processMs, 3),
      importAndBuildVsBaseline: round(app.importAndBuildMs / baseline.importAndBuildMs, 3),
      processWallVsBaseline: round(app.processWallMs / baseline.processWallMs, 3),
    };
  }
  return { runs: options.runs, baseline, apps, goal: GOAL, goalMet: Object.values(apps).every((app) => app.processVsBaseline <= GOAL) };
}
