/**
 * Checkpoint mode and faults: a record DynamoDB refuses is kept as a fault (and later redriven through markers, one per
 * checkpoint group) only once it is in its shard's captured set; a record that failed in its processor and went
 * through on a later delivery is applied once with its redrive; a record another sink refuses is redriven to that
 * sink only, as the checkpoint applied it and keeps no marker to skip it by. Against DynamoDB Local, with faults
 * injected in the SDK's HTTP handler.
 */
import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ErrorCode, type ShardflowError } from '../../src/runtime/errors';
import type { StreamRecord } from '../../src/runtime/model';
import { REDRIVE_FIELD } from '../../src/runtime/normalize';
import { definePipeline } from '../../src/runtime/pipeline';
import type { AddEffect, EffectBase, Processor, Sink, SinkResult, StreamEvent } from '../../src/runtime/types';
import { ValidationError } from '../../src/runtime/errors';
import { provenanceOf } from '../../src/runtime/model';
import { FileFaultSink } from '../../src/sinks/file-faults';
import { redriveFaults } from '../../src/sinks/redrive';
import { kinesisRecord as rawKinesisRecord } from '../helpers/factories';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBSink, ExactlyOnceMode, markerTableDefinition, type DynamoDBSinkOptions } from '../../src/sinks/dynamodb';
import { checkpointGroupOf } from '../../src/sinks/dynamodb-checkpoint';
import { useDynamoDBLocal } from '../../src/testing';
import { Fault, FaultInjectingHandler, faultyClientConfig } from '../helpers/fault-injection';
import { add, effectsOf, hashKeyTable, kinesisRecord } from '../helpers/records';

const MARKERS = 'ReviewMarkers';
const SCORES = 'ReviewScores';
const TRANSACT = 'TransactWriteItems';
const SILENT = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('DynamoDBSink in checkpoint mode and faults', () => {
  const ddb = useDynamoDBLocal({ tables: [markerTableDefinition(MARKERS), hashKeyTable(SCORES, 'Username')] });
  let client: DynamoDBClient;

  beforeAll(() => {
    client = ddb.client();
  });

  function sink(options: Partial<DynamoDBSinkOptions> = {}, handler?: FaultInjectingHandler): DynamoDBSink {
    const sinkClient = handler === undefined ? client : new DynamoDBClient(faultyClientConfig(ddb.endpoint(), handler));
    return new DynamoDBSink({
      client: sinkClient,
      markerTable: MARKERS,
      exactlyOnce: ExactlyOnceMode.Checkpoint,
      backoff: { baseDelayMs: 1, maxDelayMs: 5 },
      ...options,
    });
  }

  const groupOf = (user: string) => checkpointGroupOf(JSON.stringify([SCORES, [['Username', user]]]));

  async function scores(prefix: string): Promise<Record<string, number>> {
    const { Items = [] } = await client.send(new ScanCommand({ TableName: SCORES, ConsistentRead: true }));
    const result: Record<string, number> = {};
    for (const item of Items.map((raw) => unmarshall(raw))) {
      if (String(item.Username).startsWith(prefix)) result[String(item.Username)] = Number(item.Score);
    }
    return result;
  }

  it('is retried, not kept as a fault, while a part of it in another group may have committed unseen', async () => {
    const ns = 'lost-';
    const bad = `${ns}bad`;
    let other = `${ns}other`;
    for (let i = 0; groupOf(other) === groupOf(bad); i++) other = `${ns}other${i}`;
    await client.send(new PutItemCommand({ TableName: SCORES, Item: { Username: { S: bad }, Score: { S: 'not a number' } } }));
    const record = kinesisRecord({ stream: `${ns}stream`, sequence: 1 });
    const delivered = (r: StreamRecord) => [effectsOf(r, add(r, SCORES, { Username: bad }, { Score: 10 }), add(r, SCORES, { Username: other }, { Score: 10 }))];

    // Requests: both groups' runs together (refused), the bad group's run alone (refused: the culprit), then the
    // other group's run, which commits but whose answer is lost, and whose re-send never gets through.
    const handler = new FaultInjectingHandler((operation, index) =>
      operation !== TRANSACT ? Fault.Pass : index === 2 ? Fault.LoseResponse : index >= 3 ? Fault.FailBefore : Fault.Pass,
    );
    let result: SinkResult = await sink({ backoff: { maxAttempts: 2, baseDelayMs: 1 } }, handler).apply(delivered(record));
    expect(handler.count(TRANSACT, Fault.LoseResponse)).toBe(1);
    expect(result.failed.map(({ recordId }) => recordId)).toEqual([record.recordId]);
    // The sink cannot tell whether the other group's part is applied, so it cannot keep the record as a fault with
    // the markers a redrive needs: it must be delivered again.
    expect(result.failed[0]?.error).toMatchObject({ code: ErrorCode.SinkTransient, retryable: true });

    // What the batch loop and Lambda do with it: a retryable failure is delivered again, a permanent one is kept as a
    // fault and redriven once the target is fixed.
    for (let delivery = 0; delivery < 3 && (result.failed[0]?.error as ShardflowError | undefined)?.retryable === true; delivery++) {
      result = await sink().apply(delivered(record));
    }
    expect(result.failed.map(({ recordId, error }) => [recordId, (error as ShardflowError).code])).toEqual([[record.recordId, ErrorCode.SinkPermanent]]);
    await client.send(new PutItemCommand({ TableName: SCORES, Item: { Username: { S: bad }, Score: { N: '0' } } }));
    const redriven: StreamRecord = { ...record, raw: { ...(record.raw as object), [REDRIVE_FIELD]: true } };
    const redrive = await sink().apply(delivered(redriven));
    expect(redrive.failed).toEqual([]);
    expect(await scores(ns)).toEqual({ [bad]: 10, [other]: 10 });
  });

  it('has a second copy in the same batch share the first copy\'s refusal instead of failing the batch as out of order', async () => {
    const ns = 'copies-';
    const records = [0, 1, 2].map((sequence) => kinesisRecord({ stream: `${ns}stream`, sequence }));
    // The middle record's amount is no exact number: refused before anything is sent.
    const batch = records.map((r, i) => effectsOf(r, add(r, SCORES, { Username: `${ns}u` }, { Score: i === 1 ? Number.NaN : i + 1 })));
    const result = await sink().apply([...batch, ...batch]);
    expect(result.failed.map(({ recordId, error }) => [recordId, (error as ShardflowError).code])).toEqual([
      [records[1]!.recordId, ErrorCode.SinkPermanent],
      [records[1]!.recordId, ErrorCode.SinkPermanent],
    ]);
    expect(await scores(ns)).toEqual({ [`${ns}u`]: 4 });
  });
  it('applies once a record that failed in its processor, was delivered again and went through, and was redriven', async () => {
    const ns = 'flaky-';
    let failing = true;
    const processor: Processor<AddEffect> = {
      name: 'scores',
      select: {},
      process(record) {
        const { user, points } = record.payload.json() as { user: string; points: number };
        // Fails on "flaky" until a fix is deployed, between two deliveries.
        if (failing && user === 'flaky') throw new Error(`No score for ${user} yet`);
        return [{ type: 'add', provenance: provenanceOf(record), table: SCORES, key: { Username: `${ns}${user}` }, add: { Score: points } }];
      },
    };
    const directory = mkdtempSync(join(tmpdir(), 'shardflow-checkpoint-faults-'));
    try {
      const faults = new FileFaultSink({ path: join(directory, 'faults.jsonl') });
      const pipeline = definePipeline<AddEffect>({ processors: [processor], sinks: [sink()], faultSink: faults, options: { logger: SILENT } });
      const records = [
        { user: 'good', points: 1 },
        { user: 'flaky', points: 10 },
        { user: 'good', points: 100 },
        { user: 'good', points: 1000 },
      ].map((json) => rawKinesisRecord({ json, streamName: `${ns}stream` }));
      // The first delivery keeps "flaky" as a fault; another part of the function fails (the response names the
      // first record), so Lambda delivers the batch again, after the fix.
      let outcome = await pipeline.run({ Records: records.slice(0, 3) });
      expect(outcome.faults.map(({ recordId }) => recordId)).toEqual([records[1]!.eventID]);
      failing = false;
      outcome = await pipeline.run({ Records: records.slice(0, 3) });
      expect(outcome.response.batchItemFailures).toEqual([]);
      expect(await scores(ns)).toEqual({ [`${ns}good`]: 101, [`${ns}flaky`]: 10 });

      // The redrive of the old fault finds what the second delivery applied.
      const report = await redriveFaults(faults, async (event) => (await pipeline.run(event as StreamEvent)).response);
      expect(report).toMatchObject({ deleted: 1, kept: 0 });
      expect(await scores(ns)).toEqual({ [`${ns}good`]: 101, [`${ns}flaky`]: 10 });

      // The next batch starts after it: the checkpoint forgets it, and its transactions go back to naming no set.
      outcome = await pipeline.run({ Records: records.slice(3) });
      expect(outcome.response.batchItemFailures).toEqual([]);
      expect(await scores(ns)).toEqual({ [`${ns}good`]: 1101, [`${ns}flaky`]: 10 });
      const { Items = [] } = await client.send(new ScanCommand({ TableName: MARKERS, ConsistentRead: true }));
      const checkpoint = Items.map((item) => unmarshall(item)).find((item) => String(item.pk).includes(`${ns}stream`) && String(item.pk).endsWith('|checkpoint'));
      expect(checkpoint).toBeDefined();
      expect(checkpoint).not.toHaveProperty('captured');
      expect(checkpoint).not.toHaveProperty('capturedVersion');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('redrives a record another sink refused to that sink only: the checkpoint applied it once', async () => {
    const ns = 'other-sink-';
    interface NoteEffect extends EffectBase {
      readonly type: 'note';
      readonly text: string;
    }
    const processor: Processor<AddEffect | NoteEffect> = {
      name: 'scores',
      select: {},
      process(record) {
        const { user, points } = record.payload.json() as { user: string; points: number };
        return [
          { type: 'add', provenance: provenanceOf(record), table: SCORES, key: { Username: `${ns}${user}` }, add: { Score: points } },
          { type: 'note', provenance: provenanceOf(record), text: user },
        ];
      },
    };
    // A sink that refuses notes about "bad" until it is fixed: a permanent failure, so the record becomes a fault.
    let fixed = false;
    const notes: string[] = [];
    const noteSink: Sink<NoteEffect> = {
      name: 'notes',
      accepts: (effect): effect is NoteEffect => effect.type === 'note',
      apply: async (batch) => {
        const failed = [];
        for (const { record, effects } of batch) {
          if (!fixed && effects.some((effect) => effect.text === 'bad')) failed.push({ recordId: record.recordId, error: new ValidationError(`Record ${record.recordId} has a bad note.`) });
          else notes.push(...effects.map((effect) => effect.text));
        }
        return { failed };
      },
    };
    const directory = mkdtempSync(join(tmpdir(), 'shardflow-checkpoint-faults-'));
    try {
      const faults = new FileFaultSink({ path: join(directory, 'faults.jsonl') });
      const pipeline = definePipeline<AddEffect | NoteEffect>({
        processors: [processor],
        sinks: [sink() as Sink<AddEffect | NoteEffect>, noteSink as Sink<AddEffect | NoteEffect>],
        faultSink: faults,
        options: { logger: SILENT },
      });
      const records = [
        { user: 'good', points: 1 },
        { user: 'bad', points: 10 },
        { user: 'good', points: 100 },
      ].map((json) => rawKinesisRecord({ json, streamName: `${ns}stream` }));
      const outcome = await pipeline.run({ Records: records });
      expect(outcome.response.batchItemFailures).toEqual([]);
      expect((await faults.listFaults()).map((fault) => [fault.recordId, fault.stage])).toEqual([[records[1]!.eventID, 'notes']]);
      // The DynamoDB sink applied every record, the bad one included.
      expect(await scores(ns)).toEqual({ [`${ns}good`]: 101, [`${ns}bad`]: 10 });

      fixed = true;
      notes.length = 0;
      const report = await redriveFaults(faults, async (event) => (await pipeline.run(event as StreamEvent)).response);
      expect(report).toMatchObject({ deleted: 1, kept: 0 });
      expect(notes).toEqual(['bad']);
      expect(await scores(ns)).toEqual({ [`${ns}good`]: 101, [`${ns}bad`]: 10 });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
