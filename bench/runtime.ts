/**
 * The runtime benchmark of one workload and one sink contract, in a process of its own (a Lambda function sees one
 * event source, and a second shardflow pipeline in the process would share the loop's type feedback with the goal
 * subject): the hand loop, Powertools and shardflow on batches of every size, in rounds after a warm-up, judged as
 * ratios; then, untimed, the peak heap a batch of about 6 MB adds.
 *
 * In a round, each subject (in an order that rotates) gets, for each batch size, a full collection, a few untimed
 * batches that bring the heap and the compiled code back to that subject's steady state, then a block of timed
 * batches back to back: each pays for its own garbage, as a Lambda function running batch after batch does, and
 * none for another subject's. The measure is the process's CPU time (user + system, GC and compiler threads
 * included), which other load on a shared machine inflates less than wall time; wall time is reported too.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Context } from 'aws-lambda';
import { createLocalContext } from '../src/local/lambda-context';
import type { StreamEvent } from '../src/runtime/types';
import {
  SinkContract,
  handLoop,
  normalizeOnly,
  powertools,
  recordsPerLambdaRecord,
  shardflow,
  workloadEvent,
  type Scenario,
  type Subject,
  type Totals,
} from './workload';

// Full collections on demand: before each block, and around the memory pass's samples.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export interface RuntimeOptions {
  readonly workload: Scenario;
  readonly contract: SinkContract;
  readonly sizes: readonly number[];
  readonly rounds: number;
  readonly warmup: number;
  /**
   * How long a timed block should take, in milliseconds of the hand loop's time: every subject gets the same number
   * of batches back to back, at least one. Sized by time, so a workload that costs 15 µs a record is not timed 20
   * times longer than one that costs 0.7.
   */
  readonly blockMs: number;
  /**
   * Untimed records per subject, size and round after the full collection, before the timed block, in whole
   * batches: at least two, and at least as many as a timed block holds, so that functions called once per batch are
   * compiled again too.
   */
  readonly settleRecords: number;
  /**
   * A full collection before each block, so no subject pays for another's garbage. It costs what the settling batches
   * then take to bring compiled code back (V8 drops code whose objects' hidden classes died); --quick goes without it
   * and lets the rotating order spread the garbage.
   */
  readonly collect: boolean;
  /** Also measure Powertools' sequential mode and shardflow's normalizer alone (diagnostics, not goals). */
  readonly diagnostics: boolean;
  /** Wire size of the memory pass's batch. */
  readonly memoryBatchBytes: number;
  /** Measure the schema workload (bench/schema.ts) on the workload's events instead, with no memory pass. */
  readonly schema?: boolean;
  /** With `schema`: also Powertools' documented `innerSchema` configuration (slow, and it leaks on Node 20). */
  readonly innerSchema?: boolean;
}

/** Who runs: the subjects, and the names of shardflow's subject and of the baselines its ratios are taken against. */
export interface Lineup {
  readonly subjects: readonly Subject[];
  readonly goal: string;
  readonly handLoop: string;
  readonly powertools: string;
  /** Powertools' order-keeping mode, a diagnostic. */
  readonly powertoolsSequential?: string;
}

export interface SubjectResult {
  /** CPU time per batch: the median, over rounds, of a timed block's mean. */
  readonly cpuMsPerBatch: number;
  readonly cpuUsPerRecord: number;
  readonly recordsPerSecond: number;
  readonly wallMsPerBatch: number;
}

export interface SizeReport {
  readonly size: number;
  readonly subjects: Record<string, SubjectResult>;
  /** shardflow's speed over each baseline's, as the median over rounds of the round's ratio (paired samples). */
  readonly vsHandLoop: number;
  readonly vsPowertools: number;
  /**
   * The hand loop's speed over Powertools': what any subject as fast as the hand loop reaches against Powertools. Where
   * the workload's own work dwarfs Powertools' per-record cost, it is below the Powertools goal.
   */
  readonly handLoopVsPowertools: number;
  readonly diagnostics: Record<string, number>;
}

export interface MemoryReport {
  readonly records: number;
  readonly wireBytes: number;
  /** The most the live heap (after full collections) grew while the batch ran, over the heap before it. */
  readonly peakHeapGrowthBytes: number;
  readonly peakHeapGrowthVsWire: number;
}

export interface RuntimeReport {
  readonly workload: Scenario;
  readonly contract: SinkContract;
  readonly shardflowSubject: string;
  readonly sizes: readonly SizeReport[];
  readonly memory: MemoryReport;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function sameTotals(a: Totals, b: Totals): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}

// Lambda's longest timeout: the deadline never cuts a batch short.
function benchContext(): Context {
  return createLocalContext({ functionName: 'bench', region: 'us-east-1', timeoutMs: 15 * 60 * 1000, requestId: 'bench' });
}

interface Samples {
  readonly cpu: number[];
  readonly wall: number[];
}

async function timeBlock(subject: Subject, event: StreamEvent, context: Context, batches: number, settle: number, collect: boolean): Promise<{ cpu: number; wall: number }> {
  if (collect) gc();
  for (let i = 0; i < settle; i++) await subject.run(event, context);
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) await subject.run(event, context);
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpuStart);
  return { cpu: (cpu.user + cpu.system) / 1000 / batches, wall: wall / batches };
}

/** Times every subject on every size; checks first that they all compute the same totals. */
export async function measureSizes(lineup: Lineup, options: RuntimeOptions): Promise<SizeReport[]> {
  const { subjects, goal } = lineup;
  const context = benchContext();
  const events = new Map(options.sizes.map((size) => [size, workloadEvent(options.workload, size)]));
  for (const [size, event] of events) {
    const reference = await subjects[0]!.run(event, context);
    for (const subject of subjects.slice(1)) {
      if (!sameTotals(reference, await subject.run(event, context))) {
        throw new Error(`${subject.name} computed different totals than ${subjects[0]!.name} on ${size} records; the comparison would be meaningless.`);
      }
    }
  }
  // The hand loop's time per batch, once warm, sizes the blocks.
  const handMs = new Map<number, number>();
  for (const [size, event] of events) {
    for (let w = 0; w < 3; w++) await subjects[0]!.run(event, context);
    handMs.set(size, (await timeBlock(subjects[0]!, event, context, Math.max(1, Math.ceil(10_000 / size)), 0, false)).cpu);
  }
  const blockOf = (size: number) => Math.max(1, Math.round(options.blockMs / Math.max(handMs.get(size)!, 0.001)));
  const settleOf = (size: number) => (options.collect ? Math.max(2, blockOf(size), Math.ceil(options.settleRecords / size)) : Math.ceil(options.settleRecords / size));
  for (let w = 0; w < options.warmup; w++) {
    for (const [size, event] of events) for (const subject of subjects) await timeBlock(subject, event, context, blockOf(size), 0, false);
  }
  const samples = new Map<string, Samples>();
  const key = (size: number, name: string) => `${size}|${name}`;
  for (const size of options.sizes) for (const subject of subjects) samples.set(key(size, subject.name), { cpu: [], wall: [] });
  for (let round = 0; round < options.rounds; round++) {
    for (const [size, event] of events) {
      for (let k = 0; k < subjects.length; k++) {
        const subject = subjects[(round + k) % subjects.length]!;
        const { cpu, wall } = await timeBlock(subject, event, context, blockOf(size), settleOf(size), options.collect);
        samples.get(key(size, subject.name))!.cpu.push(cpu);
        samples.get(key(size, subject.name))!.wall.push(wall);
      }
    }
  }
  return options.sizes.map((size) => {
    const of = (name: string) => samples.get(key(size, name))!;
    // Paired by round: a round's subjects ran minutes apart at most, so a change of load on the machine between
    // rounds moves both sides of a ratio.
    const ratio = (baseline: string, subject = goal) => round3(median(of(baseline).cpu.map((ms, i) => ms / of(subject).cpu[i]!)));
    const results: Record<string, SubjectResult> = {};
    for (const subject of subjects) {
      const cpuMs = median(of(subject.name).cpu);
      results[subject.name] = {
        cpuMsPerBatch: round3(cpuMs),
        cpuUsPerRecord: round3((cpuMs * 1000) / size),
        recordsPerSecond: Math.round(size / (cpuMs / 1000)),
        wallMsPerBatch: round3(median(of(subject.name).wall)),
      };
    }
    const diagnostics: Record<string, number> = {};
    if (lineup.powertoolsSequential !== undefined) diagnostics.vsPowertoolsSequential = ratio(lineup.powertoolsSequential);
    if (results['normalize-only'] !== undefined) {
      diagnostics.normalizeOnlyVsHandLoop = ratio('hand-loop', 'normalize-only');
      diagnostics.vsNormalizeOnly = ratio('normalize-only');
    }
    return {
      size,
      subjects: results,
      vsHandLoop: ratio(lineup.handLoop),
      vsPowertools: ratio(lineup.powertools),
      handLoopVsPowertools: ratio(lineup.powertools, lineup.handLoop),
      diagnostics,
    };
  });
}

/**
 * The peak heap growth of one batch of about `memoryBatchBytes` on the wire (at most 10,000 Lambda records): samples the
 * live heap (after a full collection) every few records, from inside the processor, and when the sink gets the
 * batch; the growth is the largest sample minus the heap before the batch, with the event already in memory.
 */
async function measureMemory(options: RuntimeOptions): Promise<MemoryReport> {
  const probe = workloadEvent(options.workload, 100);
  const bytesPerRecord = Buffer.byteLength(JSON.stringify(probe)) / 100;
  const records = Math.min(10_000 * recordsPerLambdaRecord(options.workload), Math.floor(options.memoryBatchBytes / bytesPerRecord));
  const event = workloadEvent(options.workload, records);
  const wireBytes = Buffer.byteLength(JSON.stringify(event));
  let peak = 0;
  const sample = () => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  const every = Math.max(1, Math.floor(records / 25));
  const subject = shardflow(options.workload, options.contract, { sampleEvery: every, sample });
  const context = benchContext();
  // Twice untimed first, so code and caches made once per process are not counted as the batch's.
  await subject.run(event, context);
  await subject.run(event, context);
  gc();
  const before = process.memoryUsage().heapUsed;
  peak = before;
  await subject.run(event, context);
  const growth = peak - before;
  return { records, wireBytes, peakHeapGrowthBytes: growth, peakHeapGrowthVsWire: round3(growth / wireBytes) };
}

export async function measureRuntime(options: RuntimeOptions): Promise<RuntimeReport> {
  const goal = shardflow(options.workload, options.contract);
  const subjects: Subject[] = [handLoop(options.workload), powertools(options.workload, true), goal];
  if (options.diagnostics) subjects.push(powertools(options.workload, false), normalizeOnly(options.workload));
  const lineup: Lineup = { subjects, goal: goal.name, handLoop: 'hand-loop', powertools: 'powertools', ...(options.diagnostics ? { powertoolsSequential: 'powertools-sequential' } : {}) };
  const sizes = await measureSizes(lineup, options);
  const memory = await measureMemory(options);
  return { workload: options.workload, contract: options.contract, shardflowSubject: goal.name, sizes, memory };
}
