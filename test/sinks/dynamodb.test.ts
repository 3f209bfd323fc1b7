import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { NumberValueImpl as NumberValue, unmarshall } from '@aws-sdk/util-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { localClientConfig } from '../../src/local/clients';
import { createHandler } from '../../src/runtime/handler';
import { MetricName } from '../../src/runtime/metrics';
import { provenanceOf } from '../../src/runtime/model';
import { definePipeline } from '../../src/runtime/pipeline';
import type { Processor } from '../../src/runtime/types';
import { DynamoDBFaultSink, faultTableDefinition } from '../../src/sinks/dynamodb-faults';
import { DEFAULT_SHARD_ID, kinesisEvent, kinesisRecord as rawKinesisRecord } from '../helpers/factories';
import { capturingOutput } from '../helpers/output';
import { ErrorCode, isShardflowError, RetryableError, ShardflowError } from '../../src/runtime/errors';
import type { StreamRecord } from '../../src/runtime/model';
import type { AddEffect, Amount, LogEffect, RecordEffects, SinkResult } from '../../src/runtime/types';
import { decimalOf, decimalToString, addDecimals } from '../../src/runtime/decimal';
import { DynamoDBSink, ExactlyOnceMode, markerTableDefinition, type DynamoDBSinkOptions } from '../../src/sinks/dynamodb';
import { checkpointGroupOf } from '../../src/sinks/dynamodb-checkpoint';
import { REDRIVE_FIELD } from '../../src/runtime/normalize';
import { isDeploymentAwsError } from '../../src/sinks/retry';
import { useDynamoDBLocal } from '../../src/testing';
import { Fault, FaultInjectingHandler, faultyClientConfig } from '../helpers/fault-injection';
import { add, dynamodbRecord, effectsOf, hashKeyTable, kinesisRecord } from '../helpers/records';

const MARKERS = 'SinkMarkers';
const quietLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const SCORES = 'SinkScores';
const TRANSACT = 'TransactWriteItems';

/**
 * DNS failing for the endpoint's host, as Node reports it. (A real lookup fails the same way, but under Jest the SDK
 * wraps errors from Node's own realm into plain Errors without their code.)
 */
class UnknownHost extends NodeHttpHandler {
  override async handle(): Promise<never> {
    throw Object.assign(new Error('getaddrinfo ENOTFOUND dynamodb.nowhere.invalid'), { code: 'ENOTFOUND', syscall: 'getaddrinfo' });
  }
}

describe('DynamoDBSink', () => {
  const ddb = useDynamoDBLocal({ tables: [markerTableDefinition(MARKERS), hashKeyTable(SCORES, 'Username')] });
  let client: DynamoDBClient;
  let namespace = 0;
  /** A fresh user-name prefix per test, so tests share tables without sharing items. */
  let ns: string;

  beforeAll(() => {
    client = ddb.client();
  });
  beforeEach(() => {
    namespace += 1;
    ns = `t${namespace}-`;
  });

  /** A sink in `mode`, writing through the fault-injecting `handler` when given. */
  function sinkIn(mode: ExactlyOnceMode) {
    return (options: Partial<DynamoDBSinkOptions> = {}, handler?: FaultInjectingHandler): DynamoDBSink => {
      const sinkClient = handler === undefined ? client : new DynamoDBClient(faultyClientConfig(ddb.endpoint(), handler));
      return new DynamoDBSink({ client: sinkClient, markerTable: MARKERS, exactlyOnce: mode, backoff: { baseDelayMs: 1, maxDelayMs: 5 }, ...options });
    };
  }
  const sink = sinkIn(ExactlyOnceMode.Markers);

  /** Records 0..n-1 of one shard, record i adding `i + 1` to user `u<i % users>`. */
  function scoreBatch(from: number, to: number, users = 2, stream = `${ns}Lab-Stream`): RecordEffects<AddEffect>[] {
    const batch: RecordEffects<AddEffect>[] = [];
    for (let i = from; i < to; i++) {
      const record = kinesisRecord({ stream, sequence: i });
      batch.push(effectsOf(record, add(record, SCORES, { Username: `${ns}u${i % users}` }, { Score: i + 1 })));
    }
    return batch;
  }

  /** The exactly-once expectation of a set of batches: every distinct record counted once. */
  function expected(...batches: RecordEffects<AddEffect>[][]): Record<string, number> {
    const seen = new Map<string, RecordEffects<AddEffect>>();
    for (const batch of batches) for (const item of batch) seen.set(`${item.record.streamArn}|${item.record.recordId}`, item);
    const totals: Record<string, number> = {};
    for (const { effects } of seen.values()) {
      for (const effect of effects) {
        const user = String(effect.key.Username);
        // The batches here add small integers.
        totals[user] = (totals[user] ?? 0) + Number(effect.add.Score ?? 0);
      }
    }
    return totals;
  }

  async function scores(): Promise<Record<string, number>> {
    const { Items = [] } = await client.send(new ScanCommand({ TableName: SCORES, ConsistentRead: true }));
    const result: Record<string, number> = {};
    for (const item of Items.map((raw) => unmarshall(raw))) {
      if (String(item.Username).startsWith(ns)) result[String(item.Username)] = Number(item.Score);
    }
    return result;
  }

  function ok(result: SinkResult): void {
    expect(result.failed.map((failure) => [failure.recordId, String(failure.error)])).toEqual([]);
  }

  it('accepts add effects only, optionally for given tables', () => {
    const record = kinesisRecord({ sequence: 1 });
    const { provenance } = add(record, 'x', { k: 'v' }, {});
    const log: LogEffect = { type: 'log', provenance, level: 'INFO', message: 'm', fields: {} };
    expect(sink().accepts(add(record, SCORES, { Username: 'a' }, { Score: 1 }))).toBe(true);
    expect(sink().accepts(log)).toBe(false);
    expect(sink({ tables: ['Other'] }).accepts(add(record, SCORES, { Username: 'a' }, { Score: 1 }))).toBe(false);
  });

  it('rejects unknown or invalid options with a clear error', () => {
    expect(() => new DynamoDBSink({ client, markerTable: MARKERS, markerTable2: 'x' } as DynamoDBSinkOptions)).toThrow(
      /unknown option "markerTable2"/,
    );
    expect(() => new DynamoDBSink({ client, markerTable: '' })).toThrow(/markerTable/);
    expect(() => new DynamoDBSink({ client, markerTable: MARKERS, markerTtlSeconds: 0 })).toThrow(/markerTtlSeconds/);
    expect(() => new DynamoDBSink({ client, markerTable: MARKERS, backoff: { maxAttempts: 0 } })).toThrow(/maxAttempts/);
  });

  // The deliveries Lambda makes (duplicates, retries from the middle, bisection, lost responses, crashes) in both modes.
  describe.each([ExactlyOnceMode.Markers, ExactlyOnceMode.Checkpoint])('in %s mode', (mode) => {
    const sink = sinkIn(mode);

    it('applies a batch delivered twice once', async () => {
      const target = sink();
      const batch = scoreBatch(0, 10);
      ok(await target.apply(batch));
      ok(await target.apply(batch));
      expect(await scores()).toEqual(expected(batch));
      expect(target.metrics().duplicatesSkipped).toBe(10);
    });

    it('applies a retry from a mid-point once: records after it are re-delivered with new ones', async () => {
      const target = sink();
      const first = scoreBatch(0, 10, 3);
      const retry = scoreBatch(4, 16, 3);
      ok(await target.apply(first));
      ok(await target.apply(retry));
      expect(await scores()).toEqual(expected(first, retry));
      expect(target.metrics()).toMatchObject({ duplicatesSkipped: 6, recordsApplied: 16, requests: 3 });
    });

    it('applies bisected halves of an already applied batch once', async () => {
      const target = sink();
      const batch = scoreBatch(0, 12, 3);
      ok(await target.apply(batch.slice(0, 6)));
      ok(await target.apply(batch));
      ok(await target.apply(batch.slice(0, 6)));
      ok(await target.apply(batch.slice(6)));
      expect(await scores()).toEqual(expected(batch));
    });

    it('applies the same record once even when it appears twice in one batch', async () => {
      const target = sink();
      const batch = scoreBatch(0, 4);
      ok(await target.apply([...batch, ...batch]));
      expect(await scores()).toEqual(expected(batch));
    });

    it('keeps sub-records, streams and scopes apart', async () => {
      const parent = kinesisRecord({ stream: `${ns}Lab-Stream`, sequence: 7 });
      const subs = [0, 1, 2].map((sub) => kinesisRecord({ stream: `${ns}Lab-Stream`, sequence: 7, sub }));
      const otherStream = kinesisRecord({ stream: `${ns}Other-Stream`, sequence: 7 });
      const table = dynamodbRecord({ table: `${ns}Scores`, eventID: parent.recordId, sequence: 7 });
      const batch = [parent, ...subs, otherStream, table].map((record) =>
        effectsOf(record, add(record, SCORES, { Username: `${ns}u` }, { Score: 1 })),
      );
      ok(await sink().apply(batch));
      ok(await sink().apply(batch));
      expect(await scores()).toEqual({ [`${ns}u`]: 6 });
      // Another scope (another function on the same stream) applies its own effects of the same records.
      ok(await sink({ scope: `${ns}other-function` }).apply(batch));
      expect(await scores()).toEqual({ [`${ns}u`]: 12 });
    });

    it('adds decimals exactly, however records are grouped', async () => {
      const records = [0, 1, 2].map((sequence) => kinesisRecord({ stream: `${ns}decimals`, sequence }));
      const batch = records.map((record, index) =>
        effectsOf(record, add(record, SCORES, { Username: `${ns}d` }, { Score: [0.1, 0.2, -0.3][index]! })),
      );
      ok(await sink().apply(batch));
      expect(await scores()).toEqual({ [`${ns}d`]: 0 });
      const exact = (value: unknown) => decimalOf(value)!;
      expect(decimalToString(addDecimals(exact(0.1), exact(0.2)))).toBe('0.3');
      expect(decimalToString(addDecimals(exact(1e21), exact(-2.5e-7)))).toBe('999999999999999999999.99999975');
    });

    it('adds bigint and NumberValue amounts exactly, beyond what a double holds', async () => {
      const records = [0, 1, 2, 3].map((sequence) => kinesisRecord({ stream: `${ns}exact`, sequence }));
      const amounts: Amount[] = [2n ** 70n, Number.MAX_SAFE_INTEGER, new NumberValue('0.1000000000000001'), -(2n ** 70n)];
      const batch = records.map((record, index) =>
        effectsOf(record, { ...add(record, SCORES, { Username: `${ns}x` }, {}), add: { Score: amounts[index]! } }),
      );
      ok(await sink({ maxTransactionItems: 3 }).apply(batch));
      const { Item } = await client.send(new GetItemCommand({ TableName: SCORES, Key: { Username: { S: `${ns}x` } } }));
      expect(Item?.Score).toEqual({ N: '9007199254740991.1000000000000001' });
    });

    it('retries a request that failed before committing', async () => {
      const handler = new FaultInjectingHandler();
      handler.queue(TRANSACT, [Fault.FailBefore, Fault.FailBefore]);
      const target = sink({}, handler);
      const batch = scoreBatch(0, 5);
      ok(await target.apply(batch));
      expect(await scores()).toEqual(expected(batch));
      expect(handler.count(TRANSACT)).toBe(3);
      expect(target.metrics()).toMatchObject({ retries: 2, requests: 3, transactions: 1 });
    });

    it('applies a write once when it committed but its response was lost, and the retry resends it', async () => {
      const handler = new FaultInjectingHandler();
      handler.queue(TRANSACT, [Fault.LoseResponse]);
      const target = sink({}, handler);
      const batch = scoreBatch(0, 5);
      ok(await target.apply(batch));
      expect(await scores()).toEqual(expected(batch));
      expect(handler.count(TRANSACT, Fault.LoseResponse)).toBe(1);
      // The re-send carries the same ClientRequestToken: DynamoDB answers it as the transaction that committed, so
      // the records count as applied now, not as duplicates of an earlier delivery.
      expect(target.metrics()).toMatchObject({ retries: 1, requests: 2, recordsApplied: 5, duplicatesSkipped: 0 });
    });

    it('reports records whose write committed unseen as failed, and skips them on the re-delivery', async () => {
      const handler = new FaultInjectingHandler();
      // The write commits, its response is lost, and every retry fails before reaching DynamoDB.
      handler.queue(TRANSACT, [Fault.LoseResponse, Fault.FailBefore, Fault.FailBefore]);
      const target = sink({ backoff: { maxAttempts: 3, baseDelayMs: 1 } }, handler);
      const batch = scoreBatch(0, 5);
      const result = await target.apply(batch);
      expect(result.failed.map((failure) => failure.recordId)).toEqual(batch.map(({ record }) => record.recordId));
      for (const { error } of result.failed) {
        expect(isShardflowError(error) && error.code === ErrorCode.SinkTransient && error.retryable).toBe(true);
        expect(String(error)).toMatch(/could not apply the effects of record .+ yet/);
      }
      // Lambda re-delivers the batch: the markers committed with the updates show it was applied.
      ok(await target.apply(batch));
      expect(await scores()).toEqual(expected(batch));
      expect(target.metrics().duplicatesSkipped).toBe(5);
    });

    it('retries throttling with backoff', async () => {
      const handler = new FaultInjectingHandler();
      handler.queue(TRANSACT, [Fault.Throttle, Fault.Throttle]);
      const target = sink({}, handler);
      const batch = scoreBatch(0, 5);
      ok(await target.apply(batch));
      expect(await scores()).toEqual(expected(batch));
      expect(target.metrics()).toMatchObject({ retries: 2, requests: 3 });
    });

    it('retries a transaction cancelled by a conflict with another writer', async () => {
      const handler = new FaultInjectingHandler();
      handler.queue(TRANSACT, [Fault.Conflict]);
      const target = sink({}, handler);
      const batch = scoreBatch(0, 5);
      ok(await target.apply(batch));
      expect(await scores()).toEqual(expected(batch));
      expect(target.metrics()).toMatchObject({ retries: 1, requests: 2, recordsApplied: 5 });
    });

    it('retries a cancellation that names no reason with backoff and counted attempts', async () => {
      const handler = new FaultInjectingHandler();
      const cancel = Fault.CancelWithoutReason;
      handler.queue(TRANSACT, [cancel, cancel, cancel, cancel]);
      const target = sink({ backoff: { maxAttempts: 3, baseDelayMs: 1 } }, handler);
      const batch = scoreBatch(0, 5);
      const result = await target.apply(batch);
      // Not re-sent at once and uncounted: a table that kept cancelling would hold the invocation forever.
      expect(handler.count(TRANSACT)).toBe(3);
      expect(result.failed.map((failure) => failure.recordId)).toEqual(batch.map(({ record }) => record.recordId));
      for (const { error } of result.failed) expect(error).toMatchObject({ code: ErrorCode.SinkTransient, retryable: true });
      expect(target.metrics()).toMatchObject({ requests: 3, retries: 2, transactions: 0 });
      // The re-delivery gets past the last cancellation.
      ok(await target.apply(batch));
      expect(await scores()).toEqual(expected(batch));
    });

    it('fails only the record whose effects DynamoDB refuses, with a permanent error', async () => {
      await client.send(new PutItemCommand({ TableName: SCORES, Item: { Username: { S: `${ns}bad` }, Score: { S: 'not a number' } } }));
      const target = sink();
      const good = scoreBatch(0, 4);
      const badRecord = kinesisRecord({ stream: `${ns}bad`, sequence: 99 });
      const bad = effectsOf(badRecord, add(badRecord, SCORES, { Username: `${ns}bad` }, { Score: 1 }));
      const result = await target.apply([...good.slice(0, 2), bad, ...good.slice(2)]);
      expect(result.failed.map((failure) => failure.recordId)).toEqual([badRecord.recordId]);
      const [failure] = result.failed;
      expect(failure?.error).toBeInstanceOf(ShardflowError);
      expect(failure?.error).toMatchObject({ code: ErrorCode.SinkPermanent, retryable: false, recordId: badRecord.recordId });
      expect(String(failure?.error)).toMatch(/refused the effects of record .+ValidationException/);
      const { Item } = await client.send(new GetItemCommand({ TableName: SCORES, Key: { Username: { S: `${ns}bad` } } }));
      expect(Item?.Score).toEqual({ S: 'not a number' });
      expect({ ...(await scores()), [`${ns}bad`]: undefined }).toEqual({ ...expected(good), [`${ns}bad`]: undefined });
    });

    it('applies a record that touches more items than one transaction holds once, in two transactions', async () => {
      // Marker mode cuts it into parts with a marker each; checkpoint mode spreads it over its groups' runs.
      const target = sink();
      const record = kinesisRecord({ stream: `${ns}wide`, sequence: 1 });
      const effects = Array.from({ length: 150 }, (_, i) => add(record, SCORES, { Username: `${ns}w${i}` }, { Score: 1 }));
      ok(await target.apply([effectsOf(record, ...effects)]));
      ok(await target.apply([effectsOf(record, ...effects)]));
      const result = await scores();
      expect(Object.keys(result)).toHaveLength(150);
      expect(Object.values(result).every((score) => score === 1)).toBe(true);
      expect(target.metrics()).toMatchObject({ transactions: 2, duplicatesSkipped: mode === ExactlyOnceMode.Markers ? 2 : 1 });
    });

    it('fails a record with an amount that is not an exact number without sending it', async () => {
      const target = sink();
      const record = kinesisRecord({ stream: `${ns}nan`, sequence: 1 });
      const result = await target.apply([effectsOf(record, add(record, SCORES, { Username: `${ns}n` }, { Score: Number.NaN }))]);
      expect(result.failed).toHaveLength(1);
      expect(String(result.failed[0]?.error)).toMatch(/attribute Score on table SinkScores would get NaN added, which is not an exact number/);
      // Nothing of it is sent; checkpoint mode notes it in its shard's captured set, so a redrive and a later
      // delivery that applies it cannot both apply it.
      expect(target.metrics().requests).toBe(mode === ExactlyOnceMode.Markers ? 0 : 1);
      expect(await scores()).not.toHaveProperty(`${ns}n`);
    });

    describe('a broken deployment is not a poison record', () => {
      const batchOn = (table: string) => {
        const records = [1, 2, 3].map((sequence) => kinesisRecord({ stream: `${ns}broken`, sequence }));
        return records.map((record) => effectsOf(record, add(record, table, { Username: `${ns}u` }, { Score: 1 })));
      };

      it.each([
        ['a missing target table', () => sink(), 'MissingScores', /ResourceNotFoundException/],
        ['a missing marker table', () => sink({ markerTable: 'MissingMarkers' }), SCORES, /ResourceNotFoundException/],
        ['an endpoint whose host does not resolve', () => sink({ client: new DynamoDBClient({ ...localClientConfig(ddb.endpoint()), requestHandler: new UnknownHost() }) }), SCORES, /ENOTFOUND/],
      ])('throws one DEPLOYMENT_ERROR for %s instead of failing every record', async (_name, make, table, reason) => {
        const error = await make().apply(batchOn(table)).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toMatchObject({ code: ErrorCode.DeploymentError, retryable: true });
        expect((error as ShardflowError).message).toMatch(reason);
        expect((error as ShardflowError).message).toContain('The whole batch fails and is retried.');
      });

      it('tells deployment errors from errors a record causes', () => {
        const named = (name: string, extra: object = {}) => Object.assign(new Error(name), { name, ...extra });
        for (const error of [
          named('ResourceNotFoundException'),
          named('AccessDeniedException'),
          named('UnrecognizedClientException'),
          named('InvalidSignatureException'),
          named('ExpiredTokenException'),
          named('CredentialsProviderError'),
          Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
        ]) {
          expect([error.name, isDeploymentAwsError(error)]).toEqual([error.name, true]);
        }
        for (const error of [named('ValidationException'), named('TransactionCanceledException'), named('ThrottlingException'), new Error('socket hang up')]) {
          expect([error.name, isDeploymentAwsError(error)]).toEqual([error.name, false]);
        }
      });

      it('fails the whole batch through the handler, captures no fault and publishes DeploymentErrors', async () => {
        const faultTable = `${ns}Faults`;
        await client.send(new CreateTableCommand(faultTableDefinition(faultTable)));
        const processor: Processor<AddEffect> = {
          name: 'scores',
          select: {},
          process: (record) => [{ type: 'add', provenance: provenanceOf(record), table: 'MissingScores', key: { Username: 'u' }, add: { Score: 1 } }],
        };
        const logger = new Logger({ serviceName: 'scores' });
        const handler = createHandler(
          definePipeline({ processors: [processor], sinks: [sink()], faultSink: new DynamoDBFaultSink({ client, table: faultTable }), options: { logger } }),
          { serviceName: 'scores', logger },
        );
        const { lines } = await capturingOutput(async () => {
          await expect(handler(kinesisEvent([rawKinesisRecord(), rawKinesisRecord()]), {} as never)).rejects.toMatchObject({
            code: ErrorCode.DeploymentError,
          });
        });
        expect(lines.find((line) => '_aws' in line)).toMatchObject({ [MetricName.DeploymentErrors]: 1, [MetricName.BatchErrors]: 1 });
        expect(lines.find((line) => line.level === 'ERROR')).toMatchObject({
          message: 'Batch failed as a whole; Lambda will retry all of it',
          error: { code: ErrorCode.DeploymentError, message: expect.stringContaining('MissingScores') },
        });
        expect((await client.send(new ScanCommand({ TableName: faultTable }))).Items).toEqual([]);
      });
    });

    it('acknowledges records without effects without writing', async () => {
      const target = sink();
      const record: StreamRecord = kinesisRecord({ stream: `${ns}empty`, sequence: 1 });
      ok(await target.apply([{ record, effects: [] }]));
      expect(target.metrics().requests).toBe(0);
    });
  });

  describe('in marker mode', () => {
    it('pre-aggregates a batch into one transaction and counts requests and consumed capacity', async () => {
      const target = sink();
      const batch = scoreBatch(0, 40);
      ok(await target.apply(batch));
      expect(await scores()).toEqual(expected(batch));
      const metrics = target.metrics();
      // 40 markers + 2 user items = 42 actions: one request.
      expect(metrics).toMatchObject({
        requests: 1,
        transactions: 1,
        recordsApplied: 40,
        duplicatesSkipped: 0,
        retries: 0,
        recordsFailed: 0,
      });
      expect(metrics.consumedCapacityUnits).toBeGreaterThan(0);
    });

    it('reports the counts of each apply in its result, for the handler to publish', async () => {
      const target = sink();
      const batch = scoreBatch(0, 3);
      const first = await target.apply(batch);
      const second = await target.apply(batch);
      expect(first.counts).toMatchObject({ requests: 1, duplicatesSkipped: 0, retries: 0, recordsFailed: 0 });
      expect(first.counts?.consumedWriteCapacity).toBeGreaterThan(0);
      // The second delivery: one cancelled transaction names all three markers; nothing is left to send.
      expect(second.counts).toMatchObject({ requests: 1, duplicatesSkipped: 3, recordsFailed: 0 });
      expect(target.metrics()).toMatchObject({ requests: 2, recordsApplied: 3, duplicatesSkipped: 3 });
    });

    it('warns and counts when a record id comes again with other effects, and keeps the first application', async () => {
      const warnings: Record<string, unknown>[] = [];
      const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (_m: string, attributes: Record<string, unknown>) => warnings.push(attributes) };
      const target = sink({ logger });
      const record = kinesisRecord({ stream: `${ns}forged`, sequence: 1 });
      const scored = (score: number) => effectsOf(record, add(record, SCORES, { Username: `${ns}f` }, { Score: score }));
      ok(await target.apply([scored(1)]));
      // The same delivery again: a plain duplicate.
      const again = await target.apply([scored(1)]);
      expect(again.counts).toMatchObject({ duplicatesSkipped: 1, conflictingDuplicates: 0 });
      // The same eventID with other content, in another delivery and twice within one.
      const forged = await target.apply([scored(5)]);
      expect(forged.counts).toMatchObject({ duplicatesSkipped: 1, conflictingDuplicates: 1 });
      const other = kinesisRecord({ stream: `${ns}forged`, sequence: 2 });
      const twice = await target.apply([
        effectsOf(other, add(other, SCORES, { Username: `${ns}f` }, { Score: 10 })),
        effectsOf(other, add(other, SCORES, { Username: `${ns}f` }, { Score: 20 })),
      ]);
      expect(twice.counts).toMatchObject({ duplicatesSkipped: 1, conflictingDuplicates: 1 });
      expect(warnings.map((warning) => warning.recordId)).toEqual([record.recordId, other.recordId]);
      expect(await scores()).toEqual({ [`${ns}f`]: 11 });
      expect(target.metrics()).toMatchObject({ duplicatesSkipped: 3, conflictingDuplicates: 2 });
    });

    it('splits a batch at 100 actions per transaction', async () => {
      const target = sink();
      // Every record has its own user: 2 actions per record, 50 records per transaction.
      const batch = scoreBatch(0, 120, 120);
      ok(await target.apply(batch));
      expect(await scores()).toEqual(expected(batch));
      expect(target.metrics()).toMatchObject({ requests: 3, transactions: 3 });
    });

    it('survives a crash between two transactions of one batch', async () => {
      const handler = new FaultInjectingHandler();
      // The first transaction commits; the invocation dies before the second gets through.
      handler.setPlan((operation, index) => (operation === TRANSACT && index >= 1 ? Fault.FailBefore : Fault.Pass));
      const crashing = sink({ backoff: { maxAttempts: 1 } }, handler);
      const batch = scoreBatch(0, 120, 120);
      const result = await crashing.apply(batch);
      // 50 records fit the first transaction; the rest are reported, and the third transaction was not even tried.
      expect(result.failed.map((failure) => failure.recordId)).toEqual(batch.slice(50).map(({ record }) => record.recordId));
      expect(handler.count(TRANSACT)).toBe(2);
      expect(String(result.failed.at(-1)?.error)).toMatch(/an earlier write of this batch ran out of retries/);
      // Lambda re-delivers the whole batch (a crash fails all of it).
      const fresh = sink();
      ok(await fresh.apply(batch));
      expect(await scores()).toEqual(expected(batch));
      expect(fresh.metrics()).toMatchObject({ duplicatesSkipped: 50, recordsApplied: 70 });
    });

    it('applies concurrent deliveries to the same key from two shards and two appliers once', async () => {
      const a = sink();
      const b = sink();
      const shardA = scoreBatch(0, 40, 1, `${ns}shard-a`);
      const shardB = scoreBatch(0, 40, 1, `${ns}shard-b`);
      const deliveries: Promise<SinkResult>[] = [];
      for (let i = 0; i < 40; i += 5) {
        // Each shard's batch of 5, plus a duplicate delivery of the other shard's batch racing it.
        deliveries.push(a.apply(shardA.slice(i, i + 5)), b.apply(shardB.slice(i, i + 5)), a.apply(shardB.slice(i, i + 5)));
      }
      for (const result of await Promise.all(deliveries)) ok(result);
      expect(await scores()).toEqual(expected(shardA, shardB));
    });
  });

  describe('in checkpoint mode', () => {
    const sink = sinkIn(ExactlyOnceMode.Checkpoint);

    /** Users whose totals fall in checkpoint group `group` (or, with `not`, in any other group). */
    function usersInGroup(group: number, count: number, not = false): string[] {
      const users: string[] = [];
      for (let i = 0; users.length < count; i++) {
        const user = `${ns}g${i}`;
        const inGroup = checkpointGroupOf(JSON.stringify([SCORES, [['Username', user]]])) === group;
        if (inGroup !== not) users.push(user);
      }
      return users;
    }

    async function markerKeys(prefix: string): Promise<string[]> {
      const { Items = [] } = await client.send(new ScanCommand({ TableName: MARKERS, ConsistentRead: true }));
      return Items.map((item) => item.pk?.S ?? '').filter((key) => key.startsWith(prefix)).sort();
    }

    it('writes a checkpoint per transaction, not a marker per record: 10,000 records over 100 keys in two transactions', async () => {
      const target = sink();
      const batch = scoreBatch(0, 10_000, 100);
      ok(await target.apply(batch));
      expect(await scores()).toEqual(expected(batch));
      // 100 target items and the checkpoint do not fit one transaction (100 actions): two.
      expect(target.metrics()).toMatchObject({ requests: 2, transactions: 2, recordsApplied: 10_000, duplicatesSkipped: 0 });
      const stream = batch[0]!.record.streamArn;
      expect(await markerKeys(`dynamodb|${stream}`)).toEqual([`dynamodb|${stream}|${DEFAULT_SHARD_ID}|checkpoint`]);
      // Delivered again: one request, cancelled by the checkpoint's condition, and nothing applied.
      const again = await target.apply(batch);
      ok(again);
      expect(again.counts).toMatchObject({ requests: 1, duplicatesSkipped: 10_000 });
      expect(await scores()).toEqual(expected(batch));
    });

    it('applies only what lies above the checkpoint of an overlapping delivery', async () => {
      const target = sink();
      ok(await target.apply(scoreBatch(0, 10, 3)));
      const retry = await target.apply(scoreBatch(5, 20, 3));
      ok(retry);
      // The first request learns the checkpoint from its cancellation; the second applies records 10 to 19.
      expect(retry.counts).toMatchObject({ requests: 2, duplicatesSkipped: 5 });
      expect(await scores()).toEqual(expected(scoreBatch(0, 20, 3)));
    });

    it('applies concurrent deliveries of the same batch once', async () => {
      const a = sink();
      const b = sink();
      const shard = scoreBatch(0, 40, 3);
      for (let i = 0; i < 40; i += 8) {
        // Lambda delivers a shard's batches one after the other; a duplicate of a batch may race it.
        for (const result of await Promise.all([a.apply(shard.slice(i, i + 8)), b.apply(shard.slice(i, i + 8))])) ok(result);
      }
      expect(await scores()).toEqual(expected(shard));
    });

    it('refuses a record that adds to more items of one group than a transaction holds', async () => {
      const record = kinesisRecord({ stream: `${ns}wide`, sequence: 1 });
      const effects = usersInGroup(0, 100).map((user) => add(record, SCORES, { Username: user }, { Score: 1 }));
      const result = await sink().apply([effectsOf(record, ...effects)]);
      expect(result.failed.map(({ recordId }) => recordId)).toEqual([record.recordId]);
      expect(result.failed[0]?.error).toMatchObject({ code: ErrorCode.SinkPermanent, retryable: false });
      expect(String(result.failed[0]?.error)).toMatch(/more than 99 items of one checkpoint group/);
    });

    it("refuses a batch whose records of one shard are out of order, and applies nothing", async () => {
      const batch = scoreBatch(0, 10, 2);
      const error = await sink().apply([...batch.slice(5), ...batch.slice(0, 5)]).then(() => undefined, (caught: unknown) => caught);
      expect(error).toMatchObject({ code: ErrorCode.DeploymentError });
      expect(String(error)).toMatch(/after a later record of its shard/);
      expect(await scores()).toEqual({});
    });

    it('refuses a batch that finds the checkpoint at a record it does not hold (two batches of a shard side by side)', async () => {
      // ParallelizationFactor 2: one batch holds the even records, another the odd ones, both on the same items.
      const batch = scoreBatch(0, 10, 1);
      ok(await sink().apply(batch.filter((_, i) => i % 2 === 0)));
      const error = await sink().apply(batch.filter((_, i) => i % 2 === 1)).then(() => undefined, (caught: unknown) => caught);
      expect(error).toMatchObject({ code: ErrorCode.DeploymentError });
      expect(String(error)).toMatch(/ParallelizationFactor to 1/);
      expect(await scores()).toEqual(expected(batch.filter((_, i) => i % 2 === 0)));
    });

    it('stops a group at the record DynamoDB refuses, keeps its applied parts in markers, and a redrive applies the rest once', async () => {
      const [bad, mate] = usersInGroup(3, 2);
      const [other] = usersInGroup(3, 1, true);
      await client.send(new PutItemCommand({ TableName: SCORES, Item: { Username: { S: bad! }, Score: { S: 'not a number' } } }));
      const stream = `${ns}refused`;
      const records = [0, 1, 2, 3].map((sequence) => kinesisRecord({ stream, sequence }));
      const [r0, r1, r2, r3] = records as [StreamRecord, StreamRecord, StreamRecord, StreamRecord];
      const target = sink();
      const result = await target.apply([
        effectsOf(r0, add(r0, SCORES, { Username: mate! }, { Score: 1 })),
        effectsOf(r1, add(r1, SCORES, { Username: bad! }, { Score: 10 }), add(r1, SCORES, { Username: other! }, { Score: 10 })),
        effectsOf(r2, add(r2, SCORES, { Username: mate! }, { Score: 100 })),
        effectsOf(r3, add(r3, SCORES, { Username: other! }, { Score: 1000 })),
      ]);
      // r1 is refused; r2 is behind it in its group and waits for a later delivery; r3 is in another group.
      expect(result.failed.map(({ recordId, error }) => [recordId, (error as ShardflowError).code])).toEqual([
        [r1.recordId, ErrorCode.SinkPermanent],
        [r2.recordId, ErrorCode.SinkTransient],
      ]);
      expect(await scores()).toEqual({ [mate!]: 1, [other!]: 1010, [bad!]: Number.NaN });
      const group = checkpointGroupOf(JSON.stringify([SCORES, [['Username', other!]]]));
      expect(await markerKeys(`dynamodb|${r1.streamArn}|${r1.recordId}`)).toEqual([`dynamodb|${r1.streamArn}|${r1.recordId}|group ${group}`]);

      // Fixed, and redriven: the refused part only, once.
      await client.send(new PutItemCommand({ TableName: SCORES, Item: { Username: { S: bad! }, Score: { N: '0' } } }));
      const redriven: StreamRecord = { ...r1, raw: { ...(r1.raw as object), [REDRIVE_FIELD]: true } };
      const redrive = [effectsOf(redriven, add(redriven, SCORES, { Username: bad! }, { Score: 10 }), add(redriven, SCORES, { Username: other! }, { Score: 10 }))];
      ok(await target.apply(redrive));
      ok(await target.apply(redrive));
      // Lambda delivers again from r2, the first record reported for retry.
      ok(await target.apply([effectsOf(r2, add(r2, SCORES, { Username: mate! }, { Score: 100 })), effectsOf(r3, add(r3, SCORES, { Username: other! }, { Score: 1000 }))]));
      expect(await scores()).toEqual({ [mate!]: 101, [other!]: 1010, [bad!]: 10 });
    });

    describe('under the batch loop', () => {
      const scoresOf: Processor<AddEffect> = {
        name: 'scores',
        select: {},
        process(record) {
          const { user, points } = (record.source === 'aws:kinesis' ? record.payload.json() : {}) as { user: string; points: number };
          if (points < 0) throw new RetryableError(`Record ${record.recordId} asks to wait.`);
          return [{ type: 'add', provenance: provenanceOf(record), table: SCORES, key: { Username: `${ns}${user}` }, add: { Score: points } }];
        },
      };
      const raw = (stream: string, user: string, points: number, partitionKey: string) =>
        rawKinesisRecord({ streamName: stream, partitionKey, json: { user, points } });

      it('stops the batch at its first failed record and reports everything from there, whatever the partition key', async () => {
        const stream = `${ns}stops`;
        const records = [raw(stream, 'a', 1, 'A'), raw(stream, 'b', 2, 'B'), raw(stream, 'a', -1, 'A'), raw(stream, 'b', 4, 'B'), raw(stream, 'c', 8, 'C')];
        const pipeline = definePipeline({ processors: [scoresOf], sinks: [sink()], options: { logger: quietLogger } });
        const { response } = await pipeline.run(kinesisEvent(records));
        expect(response.batchItemFailures.map(({ itemIdentifier }) => itemIdentifier)).toEqual(records.slice(2).map((r) => r.kinesis.sequenceNumber));
        expect(await scores()).toEqual({ [`${ns}a`]: 1, [`${ns}b`]: 2 });
      });

      it('fails the whole batch when a fault cannot be kept, before anything is written', async () => {
        const stream = `${ns}nofaults`;
        const records = [raw(stream, 'a', 1, 'A'), rawKinesisRecord({ streamName: stream, data: 'not json' }), raw(stream, 'b', 2, 'B')];
        const faultSink = { name: 'broken', capture: () => Promise.reject(new Error('fault table unreachable')) };
        const pipeline = definePipeline({ processors: [scoresOf], sinks: [sink()], faultSink, options: { logger: quietLogger } });
        await expect(pipeline.run(kinesisEvent(records))).rejects.toMatchObject({ code: ErrorCode.FaultCaptureFailed });
        expect(await scores()).toEqual({});
      });
    });
  });
});
