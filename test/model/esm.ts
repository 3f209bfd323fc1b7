/**
 * An event source mapping at its worst, for the model tests: delivers one shard's records in batches, re-delivers
 * from the lowest reported failure (records after it included), retries or bisects a batch whose invocation
 * failed as a whole, and on request races a duplicate delivery of a batch. Faults are drawn from a finite plan,
 * so every shard finishes.
 */
import fc from 'fast-check';
import type { DynamoDBRecord, KinesisStreamRecord } from 'aws-lambda';
import type { Pipeline } from '../../src/runtime/pipeline';
import type { StreamEvent } from '../../src/runtime/types';

/** What happens around one invocation. */
export interface InvocationPlan {
  /** The same batch is delivered again, at the same time, to a second instance of the function. */
  readonly duplicate: boolean;
  /** The function fails as a whole after its sinks ran (a crash or a timeout): Lambda retries or bisects. */
  readonly crash: boolean;
  /** Another part of the function fails at this position of the batch: the partial response names it. */
  readonly partialAt: number | undefined;
}

export const invocationPlan: fc.Arbitrary<InvocationPlan> = fc.record({
  duplicate: fc.boolean(),
  crash: fc.boolean(),
  partialAt: fc.option(fc.nat(7), { nil: undefined }),
});

export interface ShardDelivery {
  /** Lambda records in the shard, in order. */
  readonly records: number;
  readonly batchSize: number;
  /** BisectBatchOnFunctionError. */
  readonly bisect: boolean;
  /** Plans of the successive invocations; once used up, invocations go smoothly. */
  readonly plans: readonly InvocationPlan[];
  /**
   * Runs the function on records [from, to), twice at once when `duplicate`. Resolves the index of the lowest
   * record the (first) invocation reported as failed, `undefined` when it reported none, or `'error'` when the
   * function failed as a whole (it threw).
   */
  invoke(from: number, to: number, duplicate: boolean): Promise<number | 'error' | undefined>;
}

/** What the deliveries did, summed over runs, so a test can check that every kind of trouble happened. */
export interface DeliveryStats {
  crashes: number;
  bisections: number;
  partials: number;
  duplicates: number;
}

export function deliveryStats(): DeliveryStats {
  return { crashes: 0, bisections: 0, partials: 0, duplicates: 0 };
}

/** A bound on invocations per shard; the plans are finite, so a correct run needs far fewer. */
const MAX_INVOCATIONS = 300;

/** Delivers the shard until every record is acknowledged. */
export async function deliverShard(shard: ShardDelivery, stats: DeliveryStats): Promise<void> {
  const plans = [...shard.plans];
  let invocations = 0;

  const invoke = async (from: number, to: number): Promise<number | 'crash' | undefined> => {
    invocations += 1;
    if (invocations > MAX_INVOCATIONS) throw new Error(`The shard did not finish within ${MAX_INVOCATIONS} invocations.`);
    const plan = plans.shift() ?? { duplicate: false, crash: false, partialAt: undefined };
    if (plan.duplicate) stats.duplicates += 1;
    const outcome = await shard.invoke(from, to, plan.duplicate);
    if (plan.crash || outcome === 'error') {
      stats.crashes += 1;
      return 'crash';
    }
    let lowest = outcome;
    if (plan.partialAt !== undefined) {
      stats.partials += 1;
      const at = from + (plan.partialAt % (to - from));
      lowest = Math.min(lowest ?? at, at);
    }
    return lowest;
  };

  /** Delivers [from, to) until it succeeds or reports a failure; resolves where the shard resumes. */
  const deliver = async (from: number, to: number): Promise<number> => {
    const outcome = await invoke(from, to);
    if (outcome === undefined) return to;
    if (outcome !== 'crash') return outcome;
    if (shard.bisect && to - from > 1) {
      stats.bisections += 1;
      const middle = from + Math.floor((to - from) / 2);
      const resumed = await deliver(from, middle);
      return resumed < middle ? resumed : deliver(middle, to);
    }
    return from;
  };

  let checkpoint = 0;
  while (checkpoint < shard.records) {
    checkpoint = await deliver(checkpoint, Math.min(shard.records, checkpoint + shard.batchSize));
  }
}

/** A record as Lambda delivers it. */
export type RawRecord = DynamoDBRecord | KinesisStreamRecord;

export function sequenceOf(raw: RawRecord): string {
  return 'kinesis' in raw ? raw.kinesis.sequenceNumber : (raw.dynamodb?.SequenceNumber ?? '');
}

/** A shard delivered to a pipeline; `secondary` runs the duplicate deliveries, at the same time as `primary`. */
export interface PipelineDelivery extends Pick<ShardDelivery, 'batchSize' | 'bisect' | 'plans'> {
  readonly records: readonly RawRecord[];
  readonly primary: Pipeline;
  readonly secondary: Pipeline;
}

/**
 * Delivers a shard's raw records through a pipeline (`deliverShard`): a pipeline that throws failed as a whole, and
 * the lowest record its partial response names is where Lambda resumes. Resolves how many records were reported.
 */
export async function deliverToPipeline(shard: PipelineDelivery, stats: DeliveryStats): Promise<number> {
  const { records, primary, secondary } = shard;
  let reported = 0;
  await deliverShard(
    {
      records: records.length,
      batchSize: shard.batchSize,
      bisect: shard.bisect,
      plans: shard.plans,
      invoke: async (from, to, duplicate) => {
        const event = { Records: records.slice(from, to) } as StreamEvent;
        let outcome;
        try {
          [outcome] = await Promise.all([primary.run(event), ...(duplicate ? [secondary.run(event)] : [])]);
        } catch {
          return 'error';
        }
        const failed = new Set(outcome.response.batchItemFailures.map((failure) => failure.itemIdentifier));
        reported += failed.size;
        const lowest = records.findIndex((raw, index) => index >= from && failed.has(sequenceOf(raw)));
        return lowest < 0 ? undefined : lowest;
      },
    },
    stats,
  );
  return reported;
}

/** DynamoDB Local keeps the scale of decimal sums ("-1.0"); the service does not. The digits still must match. */
export function canonicalNumber(n: string): string {
  const text = n.includes('.') ? n.replace(/0+$/, '').replace(/\.$/, '') : n;
  return text === '-0' ? '0' : text;
}

/** How many runs: 100 by default, `SHARDFLOW_MODEL_RUNS` for more. */
export const MODEL_RUNS = Number(process.env.SHARDFLOW_MODEL_RUNS ?? 100);
