/**
 * An idempotent DynamoDB sink for additive effects: whatever Lambda's at-least-once delivery does (duplicates,
 * retries from the middle of a batch, bisection, lost responses, crashes between writes), the target tables end up
 * as if every distinct source record had been applied exactly once.
 *
 * Mechanism (argued in docs/decisions/exactly-once.md): for every source record, a dedupe marker item keyed by
 * sink scope, stream ARN and recordId is put with `attribute_not_exists` in the SAME TransactWriteItems as the ADD
 * updates the record asked for. A marker that already exists cancels the transaction, names the record as already
 * applied, and the rest is retried without it.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  TransactWriteItemsCommand,
  type AttributeValue,
  type CancellationReason,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TransactWriteItem,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { ErrorCode, ShardflowError } from '../runtime/errors';
import { sharedLogger, type PipelineLogger } from '../runtime/logging';
import { checkInteger, checkName, checkNames, resolveOptions } from '../runtime/options';
import type { AddEffect, EffectBase, RecordEffects, RecordFailure, Sink, SinkResult } from '../runtime/types';
import { addDecimals, decimalOf, decimalToString, ZERO, type Decimal } from '../runtime/decimal';
import {
  awsErrorName,
  backoffDelay,
  deploymentError,
  isDeploymentAwsError,
  isRetryableAwsError,
  resolveBackoff,
  sinkError,
  sleep,
  type BackoffOptions,
} from './retry';

/** Partition key (S) of the marker table. */
const MARKER_KEY_ATTRIBUTE = 'pk';
/** Epoch seconds after which DynamoDB's TTL process may delete a marker. */
export const MARKER_TTL_ATTRIBUTE = 'expiresAt';
/** A digest of the effects a marker's unit applied, to tell a re-delivery from another record with the same id. */
const MARKER_DIGEST_ATTRIBUTE = 'digest';

/**
 * The marker table: one string hash key, on-demand capacity. Enable TTL on its `MARKER_TTL_ATTRIBUTE` (CreateTable
 * cannot), or expired markers are kept forever (safe, only costs storage).
 */
export function markerTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    KeySchema: [{ AttributeName: MARKER_KEY_ATTRIBUTE, KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: MARKER_KEY_ATTRIBUTE, AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** Counters of the sink's lifetime (`metrics()`); each `apply` reports its own in `SinkResult.counts`. */
export interface DynamoDBSinkMetrics {
  /** TransactWriteItems requests sent, failed and retried ones included. */
  readonly requests: number;
  /** Transactions that committed. */
  readonly transactions: number;
  /** Sum of `ConsumedCapacity.CapacityUnits` over committed transactions (write units, 2 per item up to 1 KB). */
  readonly consumedCapacityUnits: number;
  /** Records whose effects were applied by this sink now. */
  readonly recordsApplied: number;
  /** Records (or parts of a record) skipped because their marker showed an earlier delivery had applied them. */
  readonly duplicatesSkipped: number;
  /**
   * Of those, the ones whose earlier application had other effects: the same record id with other content (a
   * forged or reused eventID, or a processor that changed between deliveries). Logged as a warning each.
   */
  readonly conflictingDuplicates: number;
  /** Requests re-sent after throttling, a conflict, a 5xx or a lost response. */
  readonly retries: number;
  /** Records reported in `SinkResult.failed`. */
  readonly recordsFailed: number;
}

export interface DynamoDBSinkOptions {
  /** The client the sink writes with. Its own retry settings apply below the sink's. */
  readonly client: DynamoDBClient;
  /** Table holding the dedupe markers (see `markerTableDefinition`), in the same account and region as the targets. */
  readonly markerTable: string;
  /**
   * Name in logs, errors and metrics.
   * @default 'dynamodb'
   */
  readonly name?: string;
  /**
   * Namespace of this sink's markers. Two sinks that apply effects of the same stream's records (two functions on
   * one stream sharing a marker table) need different scopes, or each would skip the other's records.
   * @default the sink's name
   */
  readonly scope?: string;
  /**
   * How long a marker is kept, in seconds, counted from the write. It must exceed the longest time a record can
   * be delivered again after it was first applied: the stream's retention (24 h for DynamoDB Streams, 24 h to
   * 365 days for Kinesis) or, when smaller, the mapping's MaximumRecordAgeInSeconds (at most 7 days).
   * @default 691200 (8 days)
   */
  readonly markerTtlSeconds?: number;
  /**
   * Only effects on these tables are accepted (the others are left to other sinks).
   * @default every table
   */
  readonly tables?: readonly string[];
  /**
   * Most items (markers plus target items) per TransactWriteItems, 2 to 100. Smaller transactions collide less
   * often on hot items and hold fewer records when one is refused; larger ones need fewer requests.
   * @default 100
   */
  readonly maxTransactionItems?: number;
  /** Retries of throttling, conflicts, 5xx and lost responses inside one `apply`. */
  readonly backoff?: BackoffOptions;
  /**
   * Where the sink warns about records dropped as duplicates although their effects differ from the first
   * application's.
   * @default the shared Powertools logger of `defaultLogger()`
   */
  readonly logger?: PipelineLogger;
}

const COMPONENT = 'DynamoDBSink';

const DEFAULTS = {
  name: 'dynamodb',
  scope: undefined as string | undefined,
  markerTtlSeconds: 8 * 24 * 60 * 60,
  tables: undefined as readonly string[] | undefined,
  maxTransactionItems: 100,
  backoff: undefined as BackoffOptions | undefined,
  logger: sharedLogger as PipelineLogger,
} satisfies Omit<DynamoDBSinkOptions, 'client' | 'markerTable'>;

/** TransactWriteItems limits: 100 actions on distinct items, 4 MB in total (estimated here with a margin). */
const MAX_ACTIONS = 100;
const MAX_TRANSACTION_BYTES = 3_500_000;

/** Cancellation reason codes a later attempt can get past. Anything else (ValidationError, ...) is permanent. */
const RETRYABLE_CANCELLATIONS: ReadonlySet<string> = new Set([
  'TransactionConflict',
  'ProvisionedThroughputExceeded',
  'ThrottlingError',
  'RequestLimitExceeded',
]);

/** The pre-aggregated ADDs of one target item. */
interface TargetUpdate {
  /** Canonical table + key, to merge and to order updates deterministically. */
  readonly id: string;
  readonly table: string;
  readonly key: Record<string, AttributeValue>;
  readonly add: ReadonlyMap<string, Decimal>;
  readonly bytes: number;
}

/** The summed ADDs of one target item while they are being merged. */
interface MergedTarget {
  readonly table: string;
  readonly key: Record<string, AttributeValue>;
  readonly add: Map<string, Decimal>;
}

type TransactionInput = TransactWriteItemsCommandInput & { TransactItems: TransactWriteItem[] };

/** What one marker protects: all of a record's updates, or one part when they do not fit in one transaction. */
interface Unit {
  readonly record: number;
  readonly recordId: string;
  readonly marker: string;
  readonly targets: readonly TargetUpdate[];
  readonly bytes: number;
  /** What the unit applies, as `digestOf` its targets: stored with the marker. */
  readonly digest: string;
}

type Counters = { -readonly [K in keyof DynamoDBSinkMetrics]: number };

function zeroCounters(): Counters {
  return {
    requests: 0,
    transactions: 0,
    consumedCapacityUnits: 0,
    recordsApplied: 0,
    duplicatesSkipped: 0,
    conflictingDuplicates: 0,
    retries: 0,
    recordsFailed: 0,
  };
}

/** State of one `apply` call. */
interface ApplyState {
  readonly counters: Counters;
  readonly failures: Map<number, RecordFailure>;
  readonly committed: Set<number>;
  /** Second copies of a record in the same batch, to the index of the first copy: they share its outcome. */
  readonly copies: Map<number, number>;
  /** Set when a transaction ran out of retries: the rest of the batch is not attempted in this invocation. */
  exhausted: unknown;
}

export class DynamoDBSink implements Sink<AddEffect> {
  readonly name: string;
  private readonly client: DynamoDBClient;
  private readonly markerTable: string;
  private readonly scope: string;
  private readonly markerTtlSeconds: number;
  private readonly tables: ReadonlySet<string> | undefined;
  private readonly maxItems: number;
  private readonly backoff: Required<BackoffOptions>;
  private readonly logger: PipelineLogger;
  private readonly totals = zeroCounters();

  constructor(options: DynamoDBSinkOptions) {
    const settings = resolveOptions(COMPONENT, options, DEFAULTS, ['client', 'markerTable']);
    checkName(COMPONENT, 'markerTable', settings.markerTable);
    checkName(COMPONENT, 'name', settings.name);
    if (settings.scope !== undefined) checkName(COMPONENT, 'scope', settings.scope);
    checkInteger(COMPONENT, 'markerTtlSeconds', settings.markerTtlSeconds, 1);
    checkInteger(COMPONENT, 'maxTransactionItems', settings.maxTransactionItems, 2, MAX_ACTIONS);
    if (settings.tables !== undefined) checkNames(COMPONENT, 'tables', settings.tables);
    this.maxItems = settings.maxTransactionItems;
    this.name = settings.name;
    this.client = settings.client;
    this.markerTable = settings.markerTable;
    this.scope = settings.scope ?? this.name;
    this.markerTtlSeconds = settings.markerTtlSeconds;
    this.tables = settings.tables === undefined ? undefined : new Set(settings.tables);
    this.backoff = resolveBackoff(settings.backoff, COMPONENT);
    this.logger = settings.logger;
  }

  accepts(effect: EffectBase): effect is AddEffect {
    return effect.type === 'add' && (this.tables === undefined || this.tables.has((effect as AddEffect).table));
  }

  /** Counters since the sink was created. */
  metrics(): DynamoDBSinkMetrics {
    return { ...this.totals };
  }

  async apply(batch: readonly RecordEffects<AddEffect>[]): Promise<SinkResult> {
    const state: ApplyState = {
      counters: zeroCounters(),
      failures: new Map(),
      committed: new Set(),
      copies: new Map(),
      exhausted: undefined,
    };
    const units = this.units(batch, state);
    for (const transaction of pack(units, this.maxItems)) {
      await this.run(transaction, state);
    }
    for (const [copy, first] of state.copies) {
      const failure = state.failures.get(first);
      if (failure !== undefined) state.failures.set(copy, failure);
    }
    const failed = [...state.failures.entries()].sort(([a], [b]) => a - b).map(([, failure]) => failure);
    state.counters.recordsFailed = failed.length;
    state.counters.recordsApplied = [...state.committed].filter((record) => !state.failures.has(record)).length;
    const counters = state.counters;
    for (const key of Object.keys(this.totals) as (keyof Counters)[]) this.totals[key] += counters[key];
    return {
      failed,
      counts: {
        requests: counters.requests,
        consumedWriteCapacity: counters.consumedCapacityUnits,
        duplicatesSkipped: counters.duplicatesSkipped,
        conflictingDuplicates: counters.conflictingDuplicates,
        retries: counters.retries,
        recordsFailed: counters.recordsFailed,
      },
    };
  }

  /** Aggregates each record's effects per target item and cuts them into marker units. */
  private units(batch: readonly RecordEffects<AddEffect>[], state: ApplyState): Unit[] {
    const units: Unit[] = [];
    const seen = new Map<string, { readonly index: number; readonly digest: string }>();
    batch.forEach(({ record, effects }, index) => {
      if (effects.length === 0) return;
      const marker = `${this.scope}|${record.streamArn}|${record.recordId}`;
      let targets: TargetUpdate[] | undefined;
      let error: unknown;
      try {
        targets = aggregate(effects, record.recordId, this.name);
      } catch (caught) {
        error = caught;
      }
      const digest = targets === undefined ? 'invalid' : digestOf(targets);
      // The same record twice in one batch (a caller concatenating deliveries): one marker cannot be put twice in
      // a transaction, and the second copy is a duplicate anyway.
      const first = seen.get(marker);
      if (first !== undefined) {
        state.counters.duplicatesSkipped += 1;
        if (digest !== first.digest) this.conflicting(record.recordId, marker, state);
        state.copies.set(index, first.index);
        return;
      }
      seen.set(marker, { index, digest });
      if (targets === undefined) {
        state.failures.set(index, { recordId: record.recordId, error });
        return;
      }
      const parts = split(targets, this.maxItems);
      parts.forEach((part, partIndex) => {
        units.push({
          record: index,
          recordId: record.recordId,
          // Parts are cut deterministically (targets sorted), so part k of a record is the same on every delivery.
          marker: parts.length === 1 ? marker : `${marker}|part ${partIndex + 1}/${parts.length}`,
          targets: part,
          bytes: part.reduce((sum, target) => sum + target.bytes, marker.length + 100),
          digest: parts.length === 1 ? digest : digestOf(part),
        });
      });
    });
    return units;
  }

  /**
   * A record dropped as a duplicate although what it would apply differs from the first application: the same
   * record id with other content. The first application stands (a marker admits one); this says so.
   */
  private conflicting(recordId: string, marker: string, state: ApplyState): void {
    state.counters.conflictingDuplicates += 1;
    this.logger.warn('Record dropped as a duplicate, but its effects differ from those applied under its id before', {
      sink: this.name,
      recordId,
      marker,
      reason: 'the same record id arrived with other content (a reused or forged eventID, or a processor that changed between deliveries)',
    });
  }

  /** Applies one packed transaction, dropping already-applied units and retrying what a retry can fix. */
  private async run(units: readonly Unit[], state: ApplyState): Promise<void> {
    let pending = units;
    let retry = 0;
    const expiresAt = Math.floor(Date.now() / 1000) + this.markerTtlSeconds;
    // Built once per distinct set of pending units. Re-sends of one set carry the same ClientRequestToken, so a
    // re-send after a lost response is a no-op at DynamoDB. The token covers re-sends within this loop only: a later
    // delivery of the same records is caught by their markers instead, which costs the same one request and, unlike
    // a token replay, shows up as duplicates.
    let built: { readonly units: readonly Unit[]; readonly input: TransactionInput } | undefined;
    while (pending.length > 0) {
      if (state.exhausted !== undefined) {
        this.failAll(pending, state, state.exhausted, true);
        return;
      }
      const sent = pending;
      if (built?.units !== sent) built = { units: sent, input: this.transaction(sent, expiresAt) };
      const { input } = built;
      state.counters.requests += 1;
      try {
        const output = await this.client.send(new TransactWriteItemsCommand(input));
        state.counters.transactions += 1;
        for (const consumed of output.ConsumedCapacity ?? []) {
          state.counters.consumedCapacityUnits += consumed.CapacityUnits ?? 0;
        }
        for (const unit of sent) state.committed.add(unit.record);
        return;
      } catch (error) {
        // Not the records' fault: failing each of them would drain the stream into the fault table.
        if (isDeploymentAwsError(error)) throw deploymentError(`Sink ${this.name}`, `DynamoDB tables ${tablesOf(input)}`, error);
        const reasons = cancellationReasons(error, input.TransactItems.length);
        let retryable: boolean;
        if (reasons === undefined) {
          retryable = isRetryableAwsError(error);
        } else {
          // Markers come first, in the order of `pending`: a failed condition there means "applied before".
          const duplicates = new Set(sent.filter((_, index) => reasons[index]?.Code === 'ConditionalCheckFailed'));
          state.counters.duplicatesSkipped += duplicates.size;
          sent.forEach((unit, index) => {
            // Markers written before digests were stored have none: nothing to compare.
            const applied = reasons[index]?.Item?.[MARKER_DIGEST_ATTRIBUTE]?.S;
            if (duplicates.has(unit) && applied !== undefined && applied !== unit.digest) this.conflicting(unit.recordId, unit.marker, state);
          });
          if (duplicates.size > 0) pending = sent.filter((unit) => !duplicates.has(unit));
          const others = reasons
            .filter((reason, index) => !(index < sent.length && reason.Code === 'ConditionalCheckFailed'))
            .map((reason) => reason.Code ?? 'None')
            .filter((code) => code !== 'None');
          // Only dropping duplicates changes the request; a cancellation that names no reason at all is retried
          // with a pause and a counted attempt like any other, or the same request would be re-sent forever.
          if (duplicates.size > 0 && others.length === 0) continue;
          retryable = others.every((code) => RETRYABLE_CANCELLATIONS.has(code));
        }
        if (!retryable) {
          await this.isolate(pending, error, state);
          return;
        }
        retry += 1;
        if (retry >= this.backoff.maxAttempts) {
          state.exhausted = error;
          this.failAll(pending, state, error, false);
          return;
        }
        state.counters.retries += 1;
        await sleep(backoffDelay(retry, this.backoff));
      }
    }
  }

  /**
   * A permanent error of a transaction holding several records does not say whose effects DynamoDB refused (a
   * ValidationException has no per-action reason), so each unit is tried alone and only the culprits fail.
   */
  private async isolate(units: readonly Unit[], error: unknown, state: ApplyState): Promise<void> {
    if (units.length === 0) return;
    if (units.length === 1) {
      const [unit] = units as [Unit];
      state.failures.set(unit.record, { recordId: unit.recordId, error: sinkError(this.name, unit.recordId, error, false) });
      return;
    }
    for (const unit of units) await this.run([unit], state);
  }

  private failAll(units: readonly Unit[], state: ApplyState, error: unknown, earlier: boolean): void {
    for (const unit of units) {
      if (state.failures.has(unit.record)) continue;
      const failure = earlier
        ? new ShardflowError(
            ErrorCode.SinkTransient,
            `Sink ${this.name} did not apply the effects of record ${unit.recordId}: an earlier write of this batch ` +
              `ran out of retries (${awsErrorName(error)}); a later delivery can apply them.`,
            { recordId: unit.recordId, cause: error },
          )
        : sinkError(this.name, unit.recordId, error, true);
      state.failures.set(unit.record, { recordId: unit.recordId, error: failure });
    }
  }

  private transaction(units: readonly Unit[], expiresAt: number): TransactionInput {
    const items: TransactWriteItem[] = units.map((unit) => ({
      Put: {
        TableName: this.markerTable,
        Item: {
          [MARKER_KEY_ATTRIBUTE]: { S: unit.marker },
          [MARKER_TTL_ATTRIBUTE]: { N: String(expiresAt) },
          [MARKER_DIGEST_ATTRIBUTE]: { S: unit.digest },
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': MARKER_KEY_ATTRIBUTE },
        // A duplicate's cancellation reason then carries the marker, and with it what was applied.
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    }));
    const merged = new Map<string, MergedTarget>();
    for (const unit of units) {
      for (const target of unit.targets) mergeAdds(merged, target.id, target.table, target.key, target.add);
    }
    for (const id of [...merged.keys()].sort()) {
      const { table, key, add } = merged.get(id)!;
      const names: Record<string, string> = {};
      const values: Record<string, AttributeValue> = {};
      const clauses = [...add.keys()].sort().map((attribute, index) => {
        names[`#a${index}`] = attribute;
        // ADD 0 is kept: it creates the attribute, as applying the records one by one would.
        values[`:a${index}`] = { N: decimalToString(add.get(attribute)!) };
        return `#a${index} :a${index}`;
      });
      items.push({
        Update: {
          TableName: table,
          Key: key,
          UpdateExpression: `ADD ${clauses.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      });
    }
    return { TransactItems: items, ClientRequestToken: randomUUID(), ReturnConsumedCapacity: 'TOTAL' };
  }
}

/** One record's effects summed per target item, sorted by target. Throws a permanent error for invalid effects. */
function aggregate(effects: readonly AddEffect[], recordId: string, sink: string): TargetUpdate[] {
  const invalid = (reason: string) =>
    new ShardflowError(ErrorCode.SinkPermanent, `Sink ${sink} refused the effects of record ${recordId}: ${reason}.`, {
      recordId,
    });
  const targets = new Map<string, MergedTarget>();
  for (const effect of effects) {
    if (typeof effect.table !== 'string' || effect.table === '') throw invalid('an effect names no table');
    const keyNames = Object.keys(effect.key).sort();
    if (keyNames.length === 0) throw invalid(`an effect on table ${effect.table} has an empty key`);
    const key: Record<string, AttributeValue> = {};
    for (const name of keyNames) {
      const value = effect.key[name];
      if (typeof value === 'string') key[name] = { S: value };
      else if (typeof value === 'number' && Number.isFinite(value)) key[name] = { N: String(value) };
      else throw invalid(`key attribute ${name} of an effect on table ${effect.table} is neither a string nor a finite number`);
    }
    const id = JSON.stringify([effect.table, keyNames.map((name) => [name, effect.key[name]])]);
    const amounts = Object.entries(effect.add).map(([attribute, amount]): [string, Decimal] => {
      const decimal = decimalOf(amount);
      if (decimal === undefined) {
        throw invalid(
          `attribute ${attribute} on table ${effect.table} would get ${String(amount)} added, which is not an exact ` +
            'number (a finite number, a bigint or a NumberValue)',
        );
      }
      return [attribute, decimal];
    });
    mergeAdds(targets, id, effect.table, key, amounts);
  }
  return [...targets.entries()]
    .filter(([, target]) => target.add.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, target]) => ({ id, ...target, bytes: updateBytes(id, target.add) }));
}

/** What a unit applies, as 128 bits of SHA-256 over its sorted targets and exact amounts. */
function digestOf(targets: readonly TargetUpdate[]): string {
  const hash = createHash('sha256');
  for (const target of targets) {
    hash.update(target.id);
    for (const attribute of [...target.add.keys()].sort()) hash.update(`\u0000${attribute}=${decimalToString(target.add.get(attribute)!)}`);
    hash.update('\u0001');
  }
  return hash.digest('base64url').slice(0, 22);
}

/** Adds `amounts` to the target `id` of `targets`, creating it on first use. */
function mergeAdds(
  targets: Map<string, MergedTarget>,
  id: string,
  table: string,
  key: Record<string, AttributeValue>,
  amounts: Iterable<readonly [string, Decimal]>,
): void {
  let target = targets.get(id);
  if (target === undefined) {
    target = { table, key, add: new Map() };
    targets.set(id, target);
  }
  for (const [attribute, amount] of amounts) target.add.set(attribute, addDecimals(target.add.get(attribute) ?? ZERO, amount));
}

/** An upper estimate of an Update action's size: key (twice: in the id and the request), names, values, overhead. */
function updateBytes(id: string, add: ReadonlyMap<string, Decimal>): number {
  let bytes = id.length * 2 + 200;
  for (const attribute of add.keys()) bytes += attribute.length * 2 + 60;
  return bytes;
}

/** Cuts a record's targets into parts that fit one transaction next to their marker. */
function split(targets: readonly TargetUpdate[], maxItems: number): TargetUpdate[][] {
  const parts: TargetUpdate[][] = [];
  let part: TargetUpdate[] = [];
  let bytes = 0;
  for (const target of targets) {
    if (part.length > 0 && (part.length + 2 > maxItems || bytes + target.bytes > MAX_TRANSACTION_BYTES)) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(target);
    bytes += target.bytes;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/**
 * Greedy packing in batch order: a unit joins the current transaction while markers plus distinct target items
 * stay within `maxItems` actions and the size estimate within 4 MB. Effects on an item already in the transaction cost
 * no action: they are merged into its one Update.
 */
function pack(units: readonly Unit[], maxItems: number): Unit[][] {
  const transactions: Unit[][] = [];
  let current: Unit[] = [];
  let targets = new Set<string>();
  let bytes = 0;
  for (const unit of units) {
    const added = unit.targets.filter((target) => !targets.has(target.id)).length;
    const items = current.length + 1 + targets.size + added;
    if (current.length > 0 && (items > maxItems || bytes + unit.bytes > MAX_TRANSACTION_BYTES)) {
      transactions.push(current);
      current = [];
      targets = new Set();
      bytes = 0;
    }
    current.push(unit);
    for (const target of unit.targets) targets.add(target.id);
    bytes += unit.bytes;
  }
  if (current.length > 0) transactions.push(current);
  return transactions;
}

/** The tables a transaction writes, for messages. */
function tablesOf(input: TransactionInput): string {
  const tables = new Set(input.TransactItems.map((item) => item.Put?.TableName ?? item.Update?.TableName));
  return [...tables].join(', ');
}

/** The per-action reasons of a TransactionCanceledException, when they line up with the actions sent. */
function cancellationReasons(error: unknown, actions: number): readonly CancellationReason[] | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, CancellationReasons } = error as { name?: unknown; CancellationReasons?: unknown };
  if (name !== 'TransactionCanceledException' || !Array.isArray(CancellationReasons)) return undefined;
  return CancellationReasons.length === actions ? (CancellationReasons as CancellationReason[]) : undefined;
}
