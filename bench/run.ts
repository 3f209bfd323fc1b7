/**
 * The benchmark suite: the runtime against a hand-written loop and Powertools' BatchProcessor on every workload,
 * batch size and sink contract (each workload and contract in a process of its own), the peak heap of a ~6 MB
 * batch, validation with a zod schema against Powertools' parser, each bundled app's cold start against a handler that
 * only creates a DynamoDB client, and the exactly-once
 * sink's cost on DynamoDB Local in both modes against the seeds' per-record ADD. Every figure is a ratio to a
 * baseline measured in the same process and run. Results go to bench/results/ (JSON and an HTML report) unless
 * --no-save.
 *
 *   npm run bench                     the full suite, a summary on stderr
 *   npm run bench -- --quick --json   fewer rounds, exactly one JSON document on stdout (under two minutes)
 *   options: --only <runtime,schema,cold-start,sink-cost> --workloads <a,b> --sizes <100,1000> --rounds <n> --warmup <n>
 *            --block <ms of the hand loop per timed block> --settle <untimed records before it> --no-save
 *            --inner-schema (the schema stage also runs Powertools' innerSchema configuration: small sizes only)
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { measureColdStarts, type ColdStartReport } from './cold-start';
import { htmlReport } from './report';
import type { RuntimeOptions, RuntimeReport } from './runtime';
import type { SchemaReport } from './schema';
import { measureSinkCost, type SinkCostReport } from './sink-cost';
import { Scenario, SinkContract } from './workload';

export const GOALS = {
  /** shardflow's records per CPU second over the hand loop's, at least. */
  vsHandLoop: 0.8,
  /** ... over Powertools' BatchProcessor in its default configuration, at least. */
  vsPowertools: 1.8,
  /** With a zod schema on the payload: shardflow over Powertools' BatchProcessor with its parser and the same schema, at least. */
  schemaVsPowertoolsParser: 1,
  /** Peak heap growth of a ~6 MB batch over its size on the wire, at most. */
  heapVsWire: 2,
  /** A bundled app's cold start over a handler that only imports and creates a DynamoDB client, at most. */
  coldStart: 1.1,
  /** The checkpoint mode's write capacity over the seeds' per-record ADD on the 100-key workload, at most. */
  checkpointCapacity: 1.25,
  /** The seeds' requests over the checkpoint mode's on the 100-key workload, at least. */
  requestReduction: 10,
} as const;

const STAGES = ['runtime', 'schema', 'cold-start', 'sink-cost'] as const;
type Stage = (typeof STAGES)[number];

interface Options {
  readonly quick: boolean;
  readonly json: boolean;
  readonly save: boolean;
  readonly stages: readonly Stage[];
  readonly workloads: readonly Scenario[];
  readonly sizes: readonly number[];
  readonly rounds: number;
  readonly warmup: number;
  readonly blockMs: number;
  readonly settleRecords: number;
  readonly innerSchema: boolean;
}

function listOption<T extends string>(argv: readonly string[], flag: string, known: readonly T[], fallback: readonly T[]): readonly T[] {
  const at = argv.indexOf(flag);
  if (at === -1) return fallback;
  const values = (argv[at + 1] ?? '').split(',');
  for (const value of values) if (!known.includes(value as T)) throw new Error(`${flag} takes ${known.join(', ')}; got ${value}.`);
  return values as T[];
}

function parseOptions(argv: readonly string[]): Options {
  const quick = argv.includes('--quick');
  const number = (flag: string, fallback: number): number => {
    const at = argv.indexOf(flag);
    if (at === -1) return fallback;
    const value = Number(argv[at + 1]);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${flag} needs a whole number.`);
    return value;
  };
  const sizesAt = argv.indexOf('--sizes');
  const sizes = sizesAt === -1 ? [100, 1_000, 10_000] : (argv[sizesAt + 1] ?? '').split(',').map(Number);
  if (sizes.some((size) => !Number.isInteger(size) || size <= 0 || size > 10_000)) throw new Error('--sizes takes batch sizes from 1 to 10,000.');
  return {
    quick,
    json: argv.includes('--json'),
    save: !argv.includes('--no-save'),
    stages: listOption(argv, '--only', STAGES, STAGES),
    workloads: listOption(argv, '--workloads', Object.values(Scenario), Object.values(Scenario)),
    sizes,
    rounds: number('--rounds', quick ? 3 : 15),
    warmup: number('--warmup', quick ? 1 : 3),
    blockMs: number('--block', quick ? 15 : 100),
    settleRecords: number('--settle', quick ? 2_000 : 50_000),
    innerSchema: argv.includes('--inner-schema'),
  };
}

/**
 * esbuild settings of ShardflowApp's bundles (src/cdk/function-options.ts): everything bundled, minified, names not
 * kept. The runtime child and the cold-start bundles are built with them, so the code measured is the code Lambda
 * runs. Names are not kept because esbuild keeps them by redefining each class's `name`, which takes V8 off its
 * fast path for `new`: the runtime ran 3.4x slower on Node 22 and 1.6x on Node 24 with them (see bench/README.md).
 */
export const LAMBDA_BUNDLING = { bundle: true, platform: 'node', format: 'cjs', target: `node${process.versions.node.split('.')[0]}`, minify: true, keepNames: false, logLevel: 'error' } as const;

/** The runtime child: bundled once, forked per workload and contract. */
function bundleRuntimeChild(directory: string): string {
  const outfile = join(directory, 'runtime-child.js');
  buildSync({ ...LAMBDA_BUNDLING, entryPoints: [join(__dirname, 'runtime-child.ts')], outfile });
  return outfile;
}

function runChild<R extends RuntimeReport | SchemaReport>(script: string, options: RuntimeOptions): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let report: R | undefined;
    child.on('message', (message) => {
      report = message as R;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && report !== undefined) resolve(report);
      else reject(new Error(`The ${options.workload} (${options.contract}) benchmark process exited with code ${String(code)}.`));
    });
  });
}

interface RuntimeGoals {
  readonly met: boolean;
  /** Every (workload, contract, size) that misses a goal, with the ratio it reached. */
  readonly misses: readonly string[];
}

function judgeRuntime(reports: readonly RuntimeReport[]): RuntimeGoals {
  const misses: string[] = [];
  for (const report of reports) {
    const where = `${report.workload} (${report.contract})`;
    for (const size of report.sizes) {
      if (size.vsHandLoop < GOALS.vsHandLoop) {
        const ours = size.subjects[report.shardflowSubject]?.cpuUsPerRecord;
        const hand = size.subjects['hand-loop']?.cpuUsPerRecord;
        const detail = ours === undefined || hand === undefined ? '' : ` (${ours} µs of CPU a record against ${hand}; bench/README.md names the causes)`;
        misses.push(`${where} x${size.size}: ${size.vsHandLoop}x the hand loop${detail}`);
      }
      if (size.vsPowertools < GOALS.vsPowertools) {
        const reach = size.handLoopVsPowertools < GOALS.vsPowertools ? ` (out of reach: the hand loop itself is ${size.handLoopVsPowertools}x Powertools)` : '';
        misses.push(`${where} x${size.size}: ${size.vsPowertools}x Powertools${reach}`);
      }
    }
    if (report.memory.peakHeapGrowthVsWire > GOALS.heapVsWire) {
      misses.push(`${where}: peak heap growth ${report.memory.peakHeapGrowthVsWire}x the batch's wire size`);
    }
  }
  return { met: misses.length === 0, misses };
}

/** The child's options the runner's options decide; the caller names the workload and contract. */
function runtimeOptions(options: Options): Omit<RuntimeOptions, 'workload' | 'contract'> {
  return {
    sizes: options.sizes,
    rounds: options.rounds,
    warmup: options.warmup,
    blockMs: options.blockMs,
    settleRecords: options.settleRecords,
    collect: !options.quick,
    diagnostics: !options.quick,
    memoryBatchBytes: 6_000_000,
  };
}

function log(options: Options, message: string): void {
  if (!options.json) process.stderr.write(`${message}\n`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const started = new Date();
  const directory = mkdtempSync(join(tmpdir(), 'shardflow-bench-'));
  try {
    const report: Record<string, unknown> = {
      benchmark: 'shardflow',
      date: started.toISOString(),
      command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      },
      goals: GOALS,
    };
    const verdicts: Record<string, boolean> = {};
    const stageSeconds: Record<string, number> = {};
    let stageStart = Date.now();
    const stageDone = (stage: Stage) => {
      stageSeconds[stage] = Math.round((Date.now() - stageStart) / 1000);
      stageStart = Date.now();
    };
    let childScript: string | undefined;
    const script = () => (childScript ??= bundleRuntimeChild(directory));
    if (options.stages.includes('runtime')) {
      const reports: RuntimeReport[] = [];
      for (const workload of options.workloads) {
        for (const contract of Object.values(SinkContract)) {
          log(options, `runtime: ${workload} (${contract})...`);
          reports.push(await runChild<RuntimeReport>(script(), { ...runtimeOptions(options), workload, contract }));
        }
      }
      const goals = judgeRuntime(reports);
      verdicts.runtime = goals.met;
      report.runtime = {
        method: {
          unit: 'CPU time of the process (user + system) per batch; the median over rounds of a timed block',
          ratios: "records per CPU second over the baseline's, the median over rounds of each round's ratio",
          rounds: options.rounds,
          warmup: options.warmup,
          timedBlockMs: options.blockMs,
          settleRecords: options.settleRecords,
          fullCollectionBeforeEachBlock: !options.quick,
        },
        results: reports,
        goals,
      };
      stageDone('runtime');
    }
    if (options.stages.includes('schema')) {
      log(options, 'schema: kinesis-json-1kb with zod...');
      const schema = await runChild<SchemaReport>(script(), {
        ...runtimeOptions(options),
        workload: Scenario.KinesisLarge,
        contract: SinkContract.Session,
        schema: true,
        innerSchema: options.innerSchema,
      });
      const misses = schema.sizes.filter((size) => size.vsPowertools < GOALS.schemaVsPowertoolsParser).map((size) => `x${size.size}: ${size.vsPowertools}x Powertools' parser`);
      verdicts.schema = misses.length === 0;
      report.schema = { results: schema, goals: { met: misses.length === 0, misses } };
      stageDone('schema');
    }
    if (options.stages.includes('cold-start')) {
      log(options, 'cold start...');
      const coldStart: ColdStartReport = await measureColdStarts({ directory, runs: options.quick ? 9 : 25, bundling: LAMBDA_BUNDLING });
      verdicts.coldStart = coldStart.goalMet;
      report.coldStart = coldStart;
      stageDone('cold-start');
    }
    if (options.stages.includes('sink-cost')) {
      log(options, 'sink cost on DynamoDB Local...');
      const sinkCost: SinkCostReport = await measureSinkCost({ quick: options.quick });
      verdicts.checkpointCapacity = sinkCost.goals.capacityMet;
      verdicts.requestReduction = sinkCost.goals.requestsMet;
      report.sinkCost = sinkCost;
      stageDone('sink-cost');
    }
    report.durationSeconds = Math.round((Date.now() - started.getTime()) / 1000);
    report.stageSeconds = stageSeconds;
    report.verdicts = verdicts;
    report.allGoalsMet = Object.values(verdicts).every(Boolean);
    if (options.save) {
      const results = join(__dirname, 'results');
      mkdirSync(results, { recursive: true });
      const stamp = started.toISOString().replace(/[:.]/g, '-');
      const name = `${stamp}${options.quick ? '-quick' : ''}`;
      writeFileSync(join(results, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
      writeFileSync(join(results, `${name}.html`), htmlReport(report));
      log(options, `results: bench/results/${name}.json and .html`);
    }
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stderr.write(`${JSON.stringify({ verdicts, allGoalsMet: report.allGoalsMet, misses: (report.runtime as { goals?: RuntimeGoals } | undefined)?.goals?.misses })}\n`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
