/**
 * Runtime benchmark: 10,000-record batches through (a) a hand-written loop, (b) Powertools' BatchProcessor
 * (parallel, its default, and sequential, the order-keeping setting) and (c) the shardflow pipeline. The
 * subjects of a scenario run in one process, in rounds after a warm-up, and are judged as ratios. In a round
 * each subject (in an order that rotates) gets a full collection, a few untimed batches that bring the heap to
 * that subject's steady state, then a block of timed batches back to back: each pays for its own garbage, as a
 * Lambda function running batch after batch does, and none for another subject's.
 * Each scenario gets its own process, as a Lambda function sees one event source: a process that ran Kinesis
 * batches first would hand the DynamoDB scenario call sites already made polymorphic.
 * The measure is the process's CPU time per batch (user + system, GC threads included), which other load on
 * a shared machine does not inflate the way it inflates wall time; wall time is reported next to it.
 *
 *   npm run bench                     full run, table on stdout
 *   npm run bench -- --quick --json   fewer rounds, exactly one JSON document on stdout
 *   npm run bench -- --schema         the schema workload alone (bench/schema.ts)
 *   options: --size <records per batch> --rounds <n> --warmup <n>
 *            --block <timed batches per subject and round> --settle <untimed batches before them>
 */
import { fork } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLocalContext } from '../src/local/lambda-context';
import type { StreamEvent } from '../src/runtime/types';
import { SCHEMA_SCENARIO, measureSchemaScenario } from './schema';
import { Scenario, dynamodbBatch, handLoop, kinesisBatch, normalizeOnly, powertools, shardflow, type Subject, type Totals } from './workload';

const GOAL_VS_HAND_LOOP = 0.8;
const GOAL_VS_POWERTOOLS = 1.8;

interface Options {
  readonly quick: boolean;
  readonly json: boolean;
  readonly size: number;
  readonly rounds: number;
  readonly warmup: number;
  /** Timed batches per subject and round, run back to back; a sample is their mean CPU time. */
  readonly block: number;
  /** Untimed batches per subject and round after the full collection, before the timed ones. */
  readonly settle: number;
  /** Set in a child process: the one scenario it measures. */
  readonly scenario: Scenario | typeof SCHEMA_SCENARIO | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  const quick = argv.includes('--quick');
  const number = (flag: string, fallback: number): number => {
    const at = argv.indexOf(flag);
    if (at === -1) return fallback;
    const value = Number(argv[at + 1]);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${flag} needs a positive integer.`);
    return value;
  };
  return {
    quick,
    json: argv.includes('--json'),
    size: number('--size', 10_000),
    rounds: number('--rounds', quick ? 9 : 31),
    warmup: number('--warmup', quick ? 4 : 12),
    block: number('--block', quick ? 3 : 5),
    settle: number('--settle', 16),
    scenario: scenarioOption(argv),
  };
}

function scenarioOption(argv: readonly string[]): Options['scenario'] {
  const at = argv.indexOf('--scenario');
  if (at === -1) return undefined;
  const value = argv[at + 1];
  const known: readonly string[] = [...Object.values(Scenario), SCHEMA_SCENARIO];
  if (value === undefined || !known.includes(value)) throw new Error(`--scenario must be one of ${known.join(', ')}.`);
  return value as Options['scenario'];
}

// Full collections on demand: between subjects' blocks, and before each batch of the memory pass.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function sameTotals(a: Totals, b: Totals): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}

interface SubjectResult {
  /** Batch size / CPU time per batch: the median, over rounds, of the mean of a timed block. */
  readonly recordsPerSecond: number;
  readonly medianCpuMs: number;
  readonly minCpuMs: number;
  readonly maxCpuMs: number;
  /** Batch size / median wall time of a batch (inflated by other load on the machine). */
  readonly wallRecordsPerSecond: number;
  readonly medianWallMs: number;
  /** Heap in use after one batch minus before it (after a full collection), median over the rounds. */
  readonly heapDeltaBytes: number;
}

async function measure(subjects: readonly Subject[], event: StreamEvent, options: Options): Promise<Record<string, SubjectResult>> {
  // Lambda's longest timeout: the deadline never cuts a batch short.
  const context = createLocalContext({ functionName: 'bench', region: 'us-east-1', timeoutMs: 15 * 60 * 1000, requestId: 'bench' });
  const reference = await subjects[0]!.run(event, context);
  for (const subject of subjects.slice(1)) {
    if (!sameTotals(reference, await subject.run(event, context))) {
      throw new Error(`${subject.name} computed different totals than ${subjects[0]!.name}; the comparison would be meaningless.`);
    }
  }
  for (let i = 0; i < options.warmup; i++) for (const subject of subjects) await subject.run(event, context);

  const times = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  const walls = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    // Each round gives every subject a block of consecutive batches, in an order that rotates every round.
    // Before a block: a full collection, so no subject pays for the garbage another left, then untimed batches
    // that bring the subject back to its steady state. A full collection shrinks the young generation, and it
    // lets V8 drop optimized code whose embedded hidden classes died (no object of the last batch is alive, so
    // their classes die): the next 3 to 5 batches run while V8 compiles again, at up to 10x the steady cost,
    // and functions called once per batch (a sink's flush) are compiled again only batches later. A Lambda
    // function running batch after batch pays none of this, so 16 untimed batches come first (see README).
    for (let k = 0; k < subjects.length; k++) {
      const subject = subjects[(round + k) % subjects.length]!;
      gc();
      for (let w = 0; w < options.settle; w++) await subject.run(event, context);
      const cpuStart = process.cpuUsage();
      const start = process.hrtime.bigint();
      for (let b = 0; b < options.block; b++) await subject.run(event, context);
      const wall = Number(process.hrtime.bigint() - start) / 1e6;
      const cpu = process.cpuUsage(cpuStart);
      times.get(subject.name)!.push((cpu.user + cpu.system) / 1000 / options.block);
      walls.get(subject.name)!.push(wall / options.block);
    }
  }
  // Memory, in a separate untimed pass: a full collection before each batch gives every subject the same clean
  // heap, so the heap in use right after the batch is what the batch allocated and had not yet dropped.
  const heap = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  for (let round = 0; round < Math.min(options.rounds, 5); round++) {
    for (const subject of subjects) {
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      await subject.run(event, context);
      heap.get(subject.name)!.push(process.memoryUsage().heapUsed - heapBefore);
    }
  }
  const results: Record<string, SubjectResult> = {};
  for (const subject of subjects) {
    const samples = times.get(subject.name)!;
    const medianMs = median(samples);
    const medianWallMs = median(walls.get(subject.name)!);
    results[subject.name] = {
      recordsPerSecond: Math.round(options.size / (medianMs / 1000)),
      medianCpuMs: round3(medianMs),
      minCpuMs: round3(Math.min(...samples)),
      maxCpuMs: round3(Math.max(...samples)),
      wallRecordsPerSecond: Math.round(options.size / (medianWallMs / 1000)),
      medianWallMs: round3(medianWallMs),
      heapDeltaBytes: Math.round(median(heap.get(subject.name)!)),
    };
  }
  return results;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

interface ScenarioReport {
  readonly subjects: Record<string, SubjectResult>;
  readonly ratios: Record<string, number>;
  readonly goals: {
    readonly shardflowVsHandLoopAtLeast: number;
    readonly shardflowVsPowertoolsAtLeast: number;
    /** Which Powertools subject the Powertools goal compares with. */
    readonly powertoolsGoalSubject: string;
    readonly met: { readonly vsHandLoop: boolean; readonly vsPowertools: boolean };
  };
}

/** Child process: measures one scenario and sends the report to the parent. */
async function measureScenario(scenario: NonNullable<Options['scenario']>, options: Options): Promise<ScenarioReport> {
  if (scenario === SCHEMA_SCENARIO) return measureSchemaScenario(options.size, (subjects, event) => measure(subjects, event, options));
  const event = scenario === Scenario.Kinesis ? kinesisBatch(options.size) : dynamodbBatch(options.size);
  const subjects = [handLoop(scenario), powertools(scenario, true), powertools(scenario, false), shardflow(), normalizeOnly()];
  const results = await measure(subjects, event, options);
  const rate = (name: string) => results[name]!.recordsPerSecond;
  const vsHand = rate('shardflow') / rate('hand-loop');
  // The goal is stated against "Powertools' BatchProcessor": its default configuration, which runs the
  // handler over all records in parallel. The order-keeping sequential mode is reported next to it.
  const vsPowertools = rate('shardflow') / rate('powertools');
  return {
    subjects: results,
    ratios: {
      shardflowVsHandLoop: round3(vsHand),
      shardflowVsPowertools: round3(vsPowertools),
      shardflowVsPowertoolsSequential: round3(rate('shardflow') / rate('powertools-sequential')),
      shardflowVsBestPowertools: round3(rate('shardflow') / Math.max(rate('powertools'), rate('powertools-sequential'))),
      wallShardflowVsHandLoop: round3(results['shardflow']!.wallRecordsPerSecond / results['hand-loop']!.wallRecordsPerSecond),
      // Diagnostics: what the normalizer alone reaches, and what the pipeline costs on top of it.
      normalizeOnlyVsHandLoop: round3(rate('normalize-only') / rate('hand-loop')),
      shardflowVsNormalizeOnly: round3(rate('shardflow') / rate('normalize-only')),
      heapShardflowVsHandLoop: round3(results['shardflow']!.heapDeltaBytes / Math.max(1, results['hand-loop']!.heapDeltaBytes)),
    },
    goals: {
      shardflowVsHandLoopAtLeast: GOAL_VS_HAND_LOOP,
      shardflowVsPowertoolsAtLeast: GOAL_VS_POWERTOOLS,
      powertoolsGoalSubject: 'powertools',
      met: { vsHandLoop: vsHand >= GOAL_VS_HAND_LOOP, vsPowertools: vsPowertools >= GOAL_VS_POWERTOOLS },
    },
  };
}

/** Runs one scenario in a fresh process (same runtime flags as this one) and returns its report. */
function runChild(scenario: NonNullable<Options['scenario']>, argv: readonly string[]): Promise<ScenarioReport> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [...argv, '--scenario', scenario], {
      execArgv: [...process.execArgv, '--require', require.resolve('ts-node/register/transpile-only')],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let report: ScenarioReport | undefined;
    child.on('message', (message) => {
      report = message as ScenarioReport;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && report !== undefined) resolve(report);
      else reject(new Error(`The ${scenario} benchmark process exited with code ${String(code)}.`));
    });
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  if (options.scenario !== undefined) {
    const report = await measureScenario(options.scenario, options);
    process.send?.(report);
    return;
  }
  const scenarios: Record<string, ScenarioReport> = {};
  for (const scenario of argv.includes('--schema') ? ([SCHEMA_SCENARIO] as const) : [Scenario.Kinesis, Scenario.DynamoDB]) {
    if (!options.json) process.stderr.write(`${scenario}: measuring...\n`);
    scenarios[scenario] = await runChild(scenario, argv);
  }
  const allGoalsMet = Object.values(scenarios).every((r) => r.goals.met.vsHandLoop && r.goals.met.vsPowertools);
  const report = {
    benchmark: 'shardflow batch runtime',
    batchSize: options.size,
    rounds: options.rounds,
    warmup: options.warmup,
    block: options.block,
    settle: options.settle,
    unit: 'records per second = batch size / CPU time per batch (process user + system; median over rounds of a block mean)',
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
    scenarios,
    allGoalsMet,
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${report.benchmark}: ${options.size} records per batch, ${options.rounds} rounds after ${options.warmup} warm-up\n`);
  process.stdout.write(`${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}; ${report.unit}\n\n`);
  for (const [name, { subjects, ratios }] of Object.entries(scenarios)) {
    process.stdout.write(`${name}\n`);
    for (const [subject, r] of Object.entries(subjects)) {
      process.stdout.write(
        `  ${subject.padEnd(22)} ${String(r.recordsPerSecond).padStart(9)} records/s (cpu ${r.medianCpuMs.toFixed(2)} ms, wall ${r.medianWallMs.toFixed(2)} ms)  heap +${Math.round(r.heapDeltaBytes / 1024)} KiB\n`,
      );
    }
    process.stdout.write(`  ratios ${JSON.stringify(ratios)}\n\n`);
  }
  const { shardflowVsHandLoopAtLeast, shardflowVsPowertoolsAtLeast } = Object.values(scenarios)[0]!.goals;
  process.stdout.write(`goals (>= ${shardflowVsHandLoopAtLeast}x hand loop, >= ${shardflowVsPowertoolsAtLeast}x Powertools): ${allGoalsMet ? 'met' : 'NOT met'}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
