/**
 * Runs one benchmark subject alone, for profiling: 30 warm-up batches, then 100 timed ones (PROFILE_BATCHES to
 * change), and prints the CPU time per batch and per record.
 * node --cpu-prof --cpu-prof-dir=/tmp/prof -r ts-node/register/transpile-only bench/profile.ts <workload> <subject> [size]
 * Workloads: see `Scenario` in workload.ts. Subjects: shardflow-session, shardflow-apply, normalize, hand, powertools.
 * Not a benchmark result: nothing else runs in the process, so compare subjects only with bench/run.ts.
 */
import { createLocalContext } from '../src/local/lambda-context';
import { Scenario, SinkContract, handLoop, normalizeOnly, powertools, shardflow, workloadEvent, type Subject } from './workload';

async function main(): Promise<void> {
  const scenario = process.argv[2] as Scenario;
  if (!Object.values(Scenario).includes(scenario)) throw new Error(`Unknown workload ${scenario}; known: ${Object.values(Scenario).join(', ')}.`);
  const which = process.argv[3] ?? 'shardflow-session';
  const size = Number(process.argv[4] ?? 10_000);
  const subjects: Record<string, () => Subject> = {
    'shardflow-session': () => shardflow(scenario, SinkContract.Session),
    'shardflow-apply': () => shardflow(scenario, SinkContract.Apply),
    normalize: () => normalizeOnly(scenario),
    hand: () => handLoop(scenario),
    powertools: () => powertools(scenario, true),
  };
  const make = subjects[which];
  if (make === undefined) throw new Error(`Unknown subject ${which}; known: ${Object.keys(subjects).join(', ')}.`);
  const subject = make();
  // The batches come as Lambda delivers them, already parsed from JSON text.
  const event = workloadEvent(scenario, size);
  const context = createLocalContext({ functionName: 'profile', region: 'us-east-1', timeoutMs: 15 * 60 * 1000, requestId: 'profile' });
  const batches = Number(process.env.PROFILE_BATCHES ?? 100);
  const warmup = Math.max(30, Math.ceil(30_000 / size));
  for (let i = 0; i < warmup; i++) await subject.run(event, context);
  const before = process.cpuUsage();
  for (let i = 0; i < batches; i++) await subject.run(event, context);
  const used = process.cpuUsage(before);
  const ms = (used.user + used.system) / 1000 / batches;
  process.stderr.write(`${which} ${scenario} x${size}: ${ms.toFixed(3)} ms CPU per batch, ${((ms * 1000) / size).toFixed(3)} µs per record\n`);
}

void main();
