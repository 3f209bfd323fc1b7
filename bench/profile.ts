/**
 * Runs one benchmark subject alone, for profiling: 30 warm-up batches, then 100 timed ones (PROFILE_BATCHES to change),
 * and prints the CPU time per batch.
 * node --cpu-prof --cpu-prof-dir=/tmp/prof -r ts-node/register/transpile-only bench/profile.ts <kinesis|dynamodb> <shardflow|shardflow-apply|normalize|hand>
 * Not a benchmark result: nothing else runs in the process, so compare subjects only with bench/run.ts.
 */
import { createLocalContext } from '../src/local/lambda-context';
import { Scenario, dynamodbBatch, handLoop, kinesisBatch, normalizeOnly, shardflow, type Subject } from './workload';

async function main(): Promise<void> {
  const kinesis = process.argv[2] === 'kinesis';
  // The batches come as Lambda delivers them, already parsed from JSON text.
  const event = kinesis ? kinesisBatch(10_000) : dynamodbBatch(10_000);
  const which = process.argv[3] ?? 'shardflow';
  const subjects: Record<string, () => Subject> = {
    shardflow: () => shardflow(),
    'shardflow-apply': () => shardflow({ sessions: false }),
    normalize: normalizeOnly,
    hand: () => handLoop(kinesis ? Scenario.Kinesis : Scenario.DynamoDB),
  };
  const make = subjects[which];
  if (make === undefined) throw new Error(`Unknown subject ${which}; known: ${Object.keys(subjects).join(', ')}.`);
  const subject = make();
  const context = createLocalContext({ functionName: 'profile', region: 'us-east-1', timeoutMs: 15 * 60 * 1000, requestId: 'profile' });
  for (let i = 0; i < 30; i++) await subject.run(event, context);
  const batches = Number(process.env.PROFILE_BATCHES ?? 100);
  const before = process.cpuUsage();
  for (let i = 0; i < batches; i++) await subject.run(event, context);
  const used = process.cpuUsage(before);
  console.log(`${which} ${kinesis ? 'kinesis' : 'dynamodb'}: ${((used.user + used.system) / 1000 / batches).toFixed(2)} ms CPU per batch`);
}

void main();
