/**
 * Model-based property test of exactly-once through the whole pipeline when a processor does not fail the same way
 * on every delivery (a fix deployed between deliveries, a dependency that fails now and then): a record may fail in
 * its processor, or produce an amount the sink refuses, in one delivery and go through in the next, or the other
 * way round. Failed records are kept as faults and, once every record of the shards is acknowledged, redriven until
 * none is left. Deliveries are the event source mapping's at its worst (test/model/esm.ts), with the sink's requests
 * failing, losing their answers or throttled. In both exactly-once modes the table must end up with each distinct
 * user record's effects applied once: never twice (a delivery and a redrive of its old fault), never lost.
 *
 * Runs: 100 per mode by default; set SHARDFLOW_MODEL_RUNS for more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { provenanceOf } from '../../src/runtime/model';
import { definePipeline } from '../../src/runtime/pipeline';
import type { AddEffect, Processor, StreamEvent } from '../../src/runtime/types';
import { DynamoDBSink, ExactlyOnceMode, markerTableDefinition } from '../../src/sinks/dynamodb';
import { FileFaultSink } from '../../src/sinks/file-faults';
import { redriveFaults } from '../../src/sinks/redrive';
import { kinesisRecord, kplAggregateRecord, useDynamoDBLocal } from '../../src/testing';
import { Fault, FaultInjectingHandler, faultyClientConfig } from '../helpers/fault-injection';
import { canonicalNumber, deliverToPipeline, deliveryStats, invocationPlan, MODEL_RUNS } from './esm';
import { hashKeyTable } from '../helpers/records';

const RUNS = MODEL_RUNS;
const MARKERS = 'FlakyMarkers';
const TARGET = 'FlakyTarget';
const SILENT = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** What the processor does with a user record on one processing: apply it, throw, or hand the sink a NaN amount. */
const Outcome = { Ok: 'ok', Throw: 'throw', NotANumber: 'nan' } as const;
type Outcome = (typeof Outcome)[keyof typeof Outcome];

const effect = fc.record({ key: fc.integer({ min: 0, max: 3 }), amount: fc.integer({ min: -5, max: 20 }) });
const userRecord = fc.record({
  effects: fc.array(effect, { minLength: 1, maxLength: 3 }),
  /** Outcomes of its successive processings (deliveries and redrives); after these, it goes through. */
  outcomes: fc.array(fc.constantFrom<Outcome>(Outcome.Ok, Outcome.Throw, Outcome.Throw, Outcome.NotANumber), { maxLength: 3 }),
});
const shard = fc.record({
  /** Lambda records; one with several user records is a KPL aggregate. */
  parents: fc.array(fc.array(userRecord, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
  batchSize: fc.integer({ min: 1, max: 6 }),
  bisect: fc.boolean(),
  invocations: fc.array(invocationPlan, { maxLength: 5 }),
  network: fc.array(fc.constantFrom(Fault.Pass, Fault.Pass, Fault.Pass, Fault.FailBefore, Fault.LoseResponse, Fault.Throttle), { maxLength: 6 }),
});
const history = fc.record({
  shards: fc.array(shard, { minLength: 1, maxLength: 2 }),
  /** The same in every delivery and redrive: marker mode cuts a record into parts by it. */
  maxTransactionItems: fc.constantFrom(3, 5, 100),
});
type Shard = typeof shard extends fc.Arbitrary<infer T> ? T : never;

interface UserPayload {
  readonly id: string;
  readonly effects: readonly { readonly key: number; readonly amount: number }[];
}

describe.each([ExactlyOnceMode.Markers, ExactlyOnceMode.Checkpoint])('exactly-once with a flaky processor, %s mode', (mode) => {
  const ddb = useDynamoDBLocal({ tables: [markerTableDefinition(MARKERS), hashKeyTable(TARGET, 'k')] });
  const seen = { ...deliveryStats(), thrown: 0, refused: 0, redriven: 0, failedThenApplied: 0, appliedThenFailed: 0 };
  let client: DynamoDBClient;
  let directory: string;
  let run = 0;

  beforeAll(() => {
    client = ddb.client();
    directory = mkdtempSync(join(tmpdir(), 'shardflow-flaky-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  /** The processor: each processing of a user record takes its next outcome; `history` records what happened. */
  function flakyProcessor(ns: string, outcomes: ReadonlyMap<string, readonly Outcome[]>, history: Map<string, Outcome[]>): Processor<AddEffect> {
    return {
      name: 'flaky',
      select: {},
      process(record) {
        const payload = record.payload.json() as UserPayload;
        const done = history.get(payload.id) ?? [];
        history.set(payload.id, done);
        const outcome = outcomes.get(payload.id)?.[done.length] ?? Outcome.Ok;
        done.push(outcome);
        if (outcome === Outcome.Throw) throw new Error(`Processor failed on ${payload.id} this time`);
        return payload.effects.map((e, i) => ({
          type: 'add',
          provenance: provenanceOf(record),
          table: TARGET,
          key: { k: `${ns}k${e.key}` },
          add: { n: outcome === Outcome.NotANumber && i === 0 ? Number.NaN : e.amount },
        }));
      },
    };
  }

  /** Each shard's Lambda records, as delivered. */
  function build(ns: string, shards: readonly Shard[]) {
    return shards.map((spec, s) =>
      spec.parents.map((users, p) => {
        const fields = { streamName: `${ns}s${s}`, sequenceNumber: String(49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n + BigInt(p)), partitionKey: `pk${p % 2}` };
        const payloads = users.map((user, u): UserPayload => ({ id: `${s}-${p}-${u}`, effects: user.effects }));
        return users.length === 1
          ? kinesisRecord({ ...fields, json: payloads[0] })
          : kplAggregateRecord(
              payloads.map((payload) => ({ partitionKey: payload.id, data: JSON.stringify(payload) })),
              fields,
            );
      }),
    );
  }

  function model(ns: string, shards: readonly Shard[]): Record<string, string> {
    const sums = new Map<string, number>();
    for (const user of shards.flatMap((spec) => spec.parents.flat())) {
      for (const e of user.effects) sums.set(`${ns}k${e.key}`, (sums.get(`${ns}k${e.key}`) ?? 0) + e.amount);
    }
    return Object.fromEntries([...sums].map(([key, sum]) => [key, String(sum)]));
  }

  async function table(ns: string): Promise<Record<string, string>> {
    const { Items = [] } = await client.send(new ScanCommand({ TableName: TARGET, ConsistentRead: true }));
    return Object.fromEntries(
      Items.filter((item) => item.k?.S?.startsWith(ns) === true).map((item) => [item.k!.S!, item.n?.N === undefined ? 'no number' : canonicalNumber(item.n.N)]),
    );
  }

  it(
    `applies each record once, however its processings fail and its faults are redriven (${RUNS} runs)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(history, async ({ shards, maxTransactionItems }) => {
          run += 1;
          const ns = `${mode}${run}-`;
          const outcomes = new Map<string, Outcome[]>();
          shards.forEach((spec, s) => spec.parents.forEach((users, p) => users.forEach((user, u) => outcomes.set(`${s}-${p}-${u}`, user.outcomes))));
          const processed = new Map<string, Outcome[]>();
          const faultSink = new FileFaultSink({ path: join(directory, `${ns}faults.jsonl`) });
          const pipelineWith = (sinkClient: DynamoDBClient) =>
            definePipeline<AddEffect>({
              processors: [flakyProcessor(ns, outcomes, processed)],
              sinks: [
                new DynamoDBSink({
                  client: sinkClient,
                  markerTable: MARKERS,
                  exactlyOnce: mode,
                  maxTransactionItems,
                  backoff: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 3 },
                  logger: SILENT,
                }),
              ],
              faultSink,
              options: { logger: SILENT },
            });
          const records = build(ns, shards);

          await Promise.all(
            shards.map(async (spec, s) => {
              const handler = new FaultInjectingHandler();
              handler.queue('TransactWriteItems', spec.network);
              const primary = pipelineWith(new DynamoDBClient(faultyClientConfig(ddb.endpoint(), handler)));
              const secondary = pipelineWith(client);
              await deliverToPipeline({ records: records[s]!, primary, secondary, batchSize: spec.batchSize, bisect: spec.bisect, plans: spec.invocations }, seen);
            }),
          );

          // Redrive until no fault is left (each redrive is a processing too, so it can fail again).
          const redrive = pipelineWith(client);
          for (let round = 0; round < 6 && (await faultSink.listFaults()).length > 0; round++) {
            seen.redriven += 1;
            await redriveFaults(faultSink, async (event) => (await redrive.run(event as StreamEvent)).response);
          }
          expect(await faultSink.listFaults()).toEqual([]);

          for (const done of processed.values()) {
            seen.thrown += done.filter((o) => o === Outcome.Throw).length;
            seen.refused += done.filter((o) => o === Outcome.NotANumber).length;
            const firstOk = done.indexOf(Outcome.Ok);
            if (firstOk > 0) seen.failedThenApplied += 1;
            if (firstOk >= 0 && done.slice(firstOk).some((o) => o !== Outcome.Ok)) seen.appliedThenFailed += 1;
          }
          expect(await table(ns)).toEqual(model(ns, shards));
        }),
        { numRuns: RUNS },
      );
      if (RUNS >= 100) {
        for (const [kind, count] of Object.entries(seen)) expect([kind, count > 0]).toEqual([kind, true]);
      }
    },
    Math.max(180_000, RUNS * 3_000),
  );
});
