/**
 * Checkpoint mode of the exactly-once DynamoDB sink, for Kinesis records (docs/decisions/exactly-once.md). Instead of
 * a marker per record, one checkpoint item per (sink scope, stream, shard) holds, for each of 16 groups of target
 * items, the position (sequence and sub-sequence number) of the last record whose effects on the group's items are
 * applied. A transaction adds the summed effects of a run of records on some groups' items and advances those groups'
 * positions in the same TransactWriteItems, on the condition that they are where the sink expects (below the run's
 * first record while it does not know). A delivery at or below a group's position skips that group's part of those
 * records; an overlapping one applies what lies above. Its cost is a checkpoint write per transaction, not a marker
 * per record.
 *
 * Groups exist because a transaction holds 100 items: with one position per shard, a transaction could apply only a
 * run of records touching at most 99 items, so 10,000 records over 100 keys would take a hundred transactions of one
 * record per key. With 16 groups (a fixed hash of the target's table and key), each group's run covers the batch.
 *
 * It needs each shard's records in order without holes: ParallelizationFactor 1, and a batch loop that stops at the
 * first record it reports for retry (`DynamoDBSink.stopAtFirstFailure`).
 *
 * A record kept as a fault is passed unapplied, and may later be applied by a delivery and by its redrive. So the
 * checkpoint item also holds the positions of such records (the captured set, with a version every transaction
 * names in its condition), and those records go through markers, one per group, as a redrive does.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { Decimal } from '../runtime/decimal';
import { ErrorCode, ShardflowError } from '../runtime/errors';
import { compareSequenceNumbers, type KinesisStreamRecord } from '../runtime/model';
import type { AddEffect, Amount } from '../runtime/types';
import { MARKER_KEY_ATTRIBUTE, MARKER_TTL_ATTRIBUTE, markerKey, MarkerWrites, type MarkerSettings } from './dynamodb-markers';
import {
  ExactSum,
  exactAmount,
  mergeAdds,
  refusedEffects,
  targetOf,
  targetUpdates,
  updateAction,
  updateBytes,
  type MergedTarget,
  type Target,
  type TargetUpdate,
} from './dynamodb-targets';
import { CONDITION_FAILED, MAX_ACTIONS, MAX_TRANSACTION_BYTES, type BatchWrites, type TransactionInput } from './dynamodb-transactions';

/** Groups of target items per checkpoint. Fixed: a target's group must be the same on every delivery. */
export const CHECKPOINT_GROUPS = 16;

/** The checkpoint item's attribute holding group `g`'s position. */
const groupAttribute = (group: number): string => `g${group}`;

/**
 * The checkpoint item's set of the positions of records kept as faults (`CheckpointWrites.addCaptured`), and a token
 * that changes whenever the set does, which every checkpoint transaction names in its condition.
 */
const CAPTURED_ATTRIBUTE = 'captured';
const CAPTURED_VERSION_ATTRIBUTE = 'capturedVersion';

/**
 * A target's checkpoint group: FNV-1a (32 bits) of its canonical id, modulo 16. Part of the stored state's meaning:
 * changing it (or the id's form, or the number of groups) would apply records again or skip them.
 */
export function checkpointGroupOf(targetId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < targetId.length; i++) hash = Math.imul(hash ^ targetId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % CHECKPOINT_GROUPS;
}

/** A record's place in its shard: sequence number, then KPL sub-sequence number (-1 for a record not aggregated). */
export interface Position {
  readonly sequence: string;
  readonly sub: number;
}

export function comparePositions(a: Position, b: Position): number {
  return compareSequenceNumbers(a.sequence, b.sequence) || a.sub - b.sub;
}

/**
 * A position as a string whose order is the positions' order, for conditions in DynamoDB: the sequence number in
 * base 36 after its length (two base-36 digits), then, for a KPL user record, `.` and its sub-sequence number the
 * same way (one digit of length). 56 decimal digits take 38 characters, so 16 positions keep the item under 1 KB.
 * A record not aggregated and a KPL user record never share a sequence number, so the two forms never meet.
 */
export function encodePosition(position: Position): string {
  const sequence = BigInt(position.sequence).toString(36);
  const head = `${sequence.length.toString(36).padStart(2, '0')}${sequence}`;
  if (position.sub < 0) return head;
  const sub = position.sub.toString(36);
  return `${head}.${sub.length.toString(36)}${sub}`;
}

/** The position `encodePosition` wrote, or undefined for anything else. */
export function decodePosition(text: string): Position | undefined {
  const length = parseInt(text.slice(0, 2), 36);
  const digits = text.slice(2, 2 + length);
  if (!Number.isInteger(length) || digits.length !== length || !/^[0-9a-z]+$/.test(digits)) return undefined;
  let sequence = 0n;
  for (const digit of digits) sequence = sequence * 36n + BigInt(parseInt(digit, 36));
  const rest = text.slice(2 + length);
  if (rest === '') return { sequence: sequence.toString(), sub: -1 };
  const sub = /^\.([0-9a-z])([0-9a-z]+)$/.exec(rest);
  if (sub === null || parseInt(sub[1]!, 36) !== sub[2]!.length) return undefined;
  return { sequence: sequence.toString(), sub: parseInt(sub[2]!, 36) };
}

/** What the sink knows of a group's stored position: unknown, known absent (`null`), or a position. */
type Known = Position | null | undefined;

/** A record of the shard about to be kept as a fault. */
export interface CapturedRecord {
  readonly recordId: string;
  /** Its position; a sub-sequence number of -1 for a whole KPL aggregate. */
  readonly position: Position;
}

/** A run of one group's records with their summed effects: what one transaction applies for the group. */
interface Chunk {
  readonly group: number;
  /** Local indices of the records, ascending. */
  readonly records: number[];
  /** Target slot to attribute to sum. */
  readonly sums: Map<number, Map<string, ExactSum>>;
  bytes: number;
}

const NOT_DONE_MASK = 0;

/** Checkpoint mode's part of one batch for one shard: sums folded as records arrive, written at `flush`. */
export class CheckpointWrites {
  private readonly checkpointKey: string;
  private readonly maxTargets: number;
  // Per record (local index), in shard order: where it is in the batch, its id and position, the groups it touches
  // and which of its groups' parts are committed now or were applied before.
  private readonly batchIndex: number[] = [];
  private readonly recordIds: string[] = [];
  private readonly sequences: string[] = [];
  private readonly subs: number[] = [];
  private readonly groupsMask: number[] = [];
  private readonly committedMask: number[] = [];
  private readonly skippedMask: number[] = [];
  // What each record added, to sum again what is left when a checkpoint shows part of the batch applied before.
  private readonly contributionStart: number[] = [];
  private readonly contributionSlot: number[] = [];
  private readonly contributionAttribute: string[] = [];
  private readonly contributionAmount: Amount[] = [];
  // Target items, by slot.
  private readonly targets: Target[] = [];
  private readonly targetGroup: number[] = [];
  private readonly slots = new Map<string, number>();
  /** Chunks closed as records arrived, in order, and each group's open one. */
  private readonly closed: Chunk[] = [];
  private readonly open: (Chunk | undefined)[] = new Array<Chunk | undefined>(CHECKPOINT_GROUPS).fill(undefined);
  private readonly known: Known[] = new Array<Known>(CHECKPOINT_GROUPS).fill(undefined);
  /** Records refused by DynamoDB (local index to error), and what follows them in their group is not sent. */
  private readonly refused = new Map<number, unknown>();
  /** Per group, the first refused record: the group's later records are not sent in this batch. */
  private readonly stopped: (number | undefined)[] = new Array<number | undefined>(CHECKPOINT_GROUPS).fill(undefined);
  /** Records whose effects were refused before anything was sent, by record id: not in the log above. */
  private readonly refusedOnArrival = new Map<string, { readonly index: number; readonly position: Position }>();
  /** Second copies of a record in the same batch, to the batch index of the first copy. */
  readonly copies = new Map<number, number>();
  /** Batch indices of records some of whose parts were committed now. */
  readonly committed = new Set<number>();
  /** A record that came after a later one of its shard: the batch is not the shard's records in order. */
  private outOfOrder: string | undefined;
  /** The checkpoint's captured set as last seen, and its version: unknown (undefined) or known absent (null). */
  private captured: ReadonlySet<string> = new Set();
  private capturedVersion: string | null | undefined = undefined;
  /** The shard's first record the sink saw in this batch (given, or kept as a fault): Lambda never goes back before it. */
  private firstSeen: Position | undefined;
  /** Records in the captured set (local indices): applied through markers, a marker per group, by `marked`. */
  private readonly viaMarkers = new Set<number>();
  private readonly marked: MarkerWrites;

  constructor(
    private readonly settings: MarkerSettings,
    private readonly batch: BatchWrites,
    private readonly streamArn: string,
    private readonly shardId: string,
  ) {
    this.checkpointKey = `${settings.scope}|${streamArn}|${shardId}|checkpoint`;
    this.maxTargets = Math.min(settings.maxItems, MAX_ACTIONS) - 1;
    this.marked = new MarkerWrites(settings, batch);
  }

  private positionOf(local: number): Position {
    return { sequence: this.sequences[local]!, sub: this.subs[local]! };
  }

  /** Adds a record's effects: checked, logged, and folded into its groups' open runs. */
  add(index: number, record: KinesisStreamRecord, effects: readonly AddEffect[]): void {
    const position: Position = { sequence: record.sequenceNumber, sub: record.subSequenceNumber ?? -1 };
    this.firstSeen ??= position;
    // A second copy of a record refused on arrival shares its refusal (it is not in the log, so `earlier` would
    // take it for a record out of order and fail the whole batch).
    const refusedCopy = this.refusedOnArrival.get(record.recordId);
    if (refusedCopy !== undefined) {
      this.batch.counters.duplicatesSkipped += 1;
      this.copies.set(index, refusedCopy.index);
      return;
    }
    const count = this.recordIds.length;
    if (count > 0 && comparePositions(position, this.positionOf(count - 1)) <= 0) {
      this.earlier(index, record.recordId, position);
      return;
    }
    const start = this.contributionSlot.length;
    let mask = 0;
    try {
      for (const effect of effects) {
        const target = targetOf(effect, record.recordId, this.batch.sink);
        let slot = this.slots.get(target.id);
        if (slot === undefined) {
          slot = this.targets.push(target) - 1;
          this.targetGroup.push(checkpointGroupOf(target.id));
          this.slots.set(target.id, slot);
        }
        for (const attribute in effect.add) {
          const amount = effect.add[attribute]!;
          // A safe integer is exact as it is; anything else is checked now, so the sums cannot fail later.
          if (typeof amount !== 'number' || !Number.isSafeInteger(amount)) exactAmount(amount, attribute, target.table, record.recordId, this.batch.sink);
          this.contributionSlot.push(slot);
          this.contributionAttribute.push(attribute);
          this.contributionAmount.push(amount);
          mask |= 1 << this.targetGroup[slot]!;
        }
      }
      for (let group = 0; group < CHECKPOINT_GROUPS; group++) {
        if ((mask & (1 << group)) !== 0 && this.distinctTargets(start, group) > this.maxTargets) {
          throw refusedEffects(
            this.batch.sink,
            record.recordId,
            `it adds to more than ${this.maxTargets} items of one checkpoint group, more than one transaction holds; marker mode applies such records in parts`,
          );
        }
      }
    } catch (error) {
      this.contributionSlot.length = start;
      this.contributionAttribute.length = start;
      this.contributionAmount.length = start;
      this.batch.failures.set(index, { recordId: record.recordId, error });
      this.refusedOnArrival.set(record.recordId, { index, position });
      return;
    }
    const local = this.recordIds.push(record.recordId) - 1;
    this.batchIndex.push(index);
    this.sequences.push(position.sequence);
    this.subs.push(position.sub);
    this.groupsMask.push(mask);
    this.committedMask.push(NOT_DONE_MASK);
    this.skippedMask.push(NOT_DONE_MASK);
    this.contributionStart.push(start);
    for (let group = 0; group < CHECKPOINT_GROUPS; group++) {
      if ((mask & (1 << group)) === 0) continue;
      let chunk = this.open[group];
      if (chunk !== undefined && !this.fits(chunk, local)) {
        this.closed.push(chunk);
        chunk = undefined;
      }
      chunk ??= this.open[group] = newChunk(group);
      this.fold(chunk, local);
    }
  }

  /** A record at or before the last one: a second copy of an earlier record, or a batch out of shard order. */
  private earlier(index: number, recordId: string, position: Position): void {
    for (let local = this.recordIds.length - 1; local >= 0 && comparePositions(this.positionOf(local), position) >= 0; local--) {
      if (this.recordIds[local] === recordId) {
        this.batch.counters.duplicatesSkipped += 1;
        this.copies.set(index, this.batchIndex[local]!);
        return;
      }
    }
    this.outOfOrder ??= recordId;
  }

  private contributionEnd(local: number): number {
    return local + 1 < this.contributionStart.length ? this.contributionStart[local + 1]! : this.contributionSlot.length;
  }

  /** Distinct targets of the group among the contributions from `start` (one record's) on. */
  private distinctTargets(start: number, group: number): number {
    const seen = new Set<number>();
    for (let c = start; c < this.contributionSlot.length; c++) if (this.targetGroup[this.contributionSlot[c]!] === group) seen.add(this.contributionSlot[c]!);
    return seen.size;
  }

  /** Whether the record's part of the chunk's group fits in the chunk's transaction. */
  private fits(chunk: Chunk, local: number): boolean {
    let targets = chunk.sums.size;
    let bytes = chunk.bytes;
    for (let c = this.contributionStart[local]!; c < this.contributionEnd(local); c++) {
      const slot = this.contributionSlot[c]!;
      if (this.targetGroup[slot] !== chunk.group || chunk.sums.has(slot)) continue;
      targets += 1;
      bytes += updateBytes(this.targets[slot]!.id, [this.contributionAttribute[c]!]);
    }
    return targets <= this.maxTargets && bytes <= MAX_TRANSACTION_BYTES;
  }

  private fold(chunk: Chunk, local: number): void {
    chunk.records.push(local);
    for (let c = this.contributionStart[local]!; c < this.contributionEnd(local); c++) {
      const slot = this.contributionSlot[c]!;
      if (this.targetGroup[slot] !== chunk.group) continue;
      let sums = chunk.sums.get(slot);
      if (sums === undefined) {
        chunk.sums.set(slot, (sums = new Map()));
        chunk.bytes += updateBytes(this.targets[slot]!.id, []);
      }
      const attribute = this.contributionAttribute[c]!;
      let sum = sums.get(attribute);
      if (sum === undefined) {
        sums.set(attribute, (sum = new ExactSum()));
        chunk.bytes += attribute.length * 2 + 60;
      }
      const amount = this.contributionAmount[c]!;
      sum.add(amount, () => exactAmount(amount, attribute, this.targets[slot]!.table, this.recordIds[local]!, this.batch.sink));
    }
  }

  /** The group's records among `records` (ascending local indices), cut into runs that fit a transaction each. */
  private chunksOf(group: number, records: readonly number[]): Chunk[] {
    const chunks: Chunk[] = [];
    let chunk: Chunk | undefined;
    for (const local of records) {
      if (chunk !== undefined && !this.fits(chunk, local)) {
        chunks.push(chunk);
        chunk = undefined;
      }
      chunk ??= newChunk(group);
      this.fold(chunk, local);
    }
    if (chunk !== undefined) chunks.push(chunk);
    return chunks;
  }

  async flush(): Promise<void> {
    if (this.outOfOrder !== undefined) throw this.notInOrder();
    // A record refused on arrival holds no group back, so it goes into the captured set before any group can pass it.
    // If that cannot be written, the batch is exhausted: nothing of it is written, and all of it is retried.
    const arrivals = [...this.refusedOnArrival].map(([recordId, { position }]) => ({ recordId, position }));
    const refusedOnArrivalKept = arrivals.length === 0 || (await this.addCaptured(arrivals));
    const chunks = [...this.closed];
    for (const chunk of this.open) if (chunk !== undefined) chunks.push(chunk);
    // The captured set, when known already (records were kept as faults before the sinks wrote), sends its records
    // through markers.
    let queue = this.captured.size > 0 ? this.replan(this.pack(chunks)) : this.pack(chunks);
    let retry = 0;
    let built: ({ readonly transaction: readonly Chunk[] } & BuiltTransaction) | undefined;
    while (queue.length > 0) {
      if (this.batch.exhausted !== undefined) break;
      const transaction = queue[0]!;
      // Re-sends of one transaction carry the same ClientRequestToken: after a lost response, DynamoDB answers the
      // re-send as the transaction that committed.
      if (built?.transaction !== transaction) built = { transaction, ...this.transaction(transaction) };
      const attempt = await this.batch.attempt(built.input);
      if (attempt.committed) {
        this.commit(transaction, built.capturedAfter);
        queue.shift();
        retry = 0;
        continue;
      }
      const stored = attempt.reasons?.[0]?.Code === CONDITION_FAILED ? attempt.reasons[0].Item : undefined;
      if (attempt.reasons?.[0]?.Code === CONDITION_FAILED && this.learn(stored)) {
        queue = this.replan(queue);
        continue;
      }
      if (!attempt.retryable) {
        queue = this.isolate(transaction, attempt.error, queue.slice(1));
        continue;
      }
      retry += 1;
      if (!(await this.batch.retry(retry, attempt.error))) {
        for (const { records } of transaction) for (const local of records) this.batch.fail(this.batchIndex[local]!, this.recordIds[local]!, attempt.error, true);
        break;
      }
    }
    await this.marked.flush();
    for (const index of this.marked.committed) this.committed.add(index);
    await this.settle(refusedOnArrivalKept);
  }

  /**
   * Transactions in order: each holds at most one run per group (a group's runs must commit in order), within the
   * item and size limits; runs in the order of their first record.
   */
  private pack(chunks: readonly Chunk[]): Chunk[][] {
    const ordered = [...chunks].sort((a, b) => a.records[0]! - b.records[0]!);
    const transactions: Chunk[][] = [];
    let current: Chunk[] = [];
    let targets = 0;
    let bytes = 0;
    for (const chunk of ordered) {
      if (current.length > 0 && (current.some((other) => other.group === chunk.group) || targets + chunk.sums.size > this.maxTargets || bytes + chunk.bytes > MAX_TRANSACTION_BYTES)) {
        transactions.push(current);
        current = [];
        targets = 0;
        bytes = 0;
      }
      current.push(chunk);
      targets += chunk.sums.size;
      bytes += chunk.bytes;
    }
    if (current.length > 0) transactions.push(current);
    return transactions;
  }

  /**
   * The transaction: the checkpoint's update with its conditions first, then each target's ADDs. The update also
   * prunes the captured set of positions before the batch's first record, which Lambda never delivers again.
   */
  private transaction(chunks: readonly Chunk[]): BuiltTransaction {
    const update = this.checkpointUpdate();
    for (const { group, records } of chunks) {
      const name = `#g${group}`;
      update.values[`:q${group}`] = { S: encodePosition(this.positionOf(records[records.length - 1]!)) };
      update.sets.push(`${name} = :q${group}`);
      update.conditions.push(this.groupCondition(group, this.positionOf(records[0]!), update));
    }
    let capturedAfter: CapturedState | undefined;
    const pruned = this.prunable();
    if (pruned.length > 0) {
      update.names['#captured'] = CAPTURED_ATTRIBUTE;
      update.values[':pruned'] = { SS: pruned };
      update.deletes.push('#captured :pruned');
      const left = new Set([...this.captured].filter((text) => !pruned.includes(text)));
      const version = left.size === 0 ? null : randomUUID();
      if (version === null) update.removes.push('#capturedVersion');
      else {
        update.values[':newVersion'] = { S: version };
        update.sets.push('#capturedVersion = :newVersion');
      }
      capturedAfter = { captured: left, version };
    }
    const items: TransactWriteItem[] = [update.action()];
    const updates: [string, TransactWriteItem][] = [];
    for (const chunk of chunks) {
      for (const [slot, sums] of chunk.sums) {
        const target = this.targets[slot]!;
        const add = new Map<string, Decimal>();
        for (const [attribute, sum] of sums) add.set(attribute, sum.value());
        updates.push([target.id, updateAction(target, add)]);
      }
    }
    updates.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [, update] of updates) items.push(update);
    return { input: { TransactItems: items, ClientRequestToken: randomUUID(), ReturnConsumedCapacity: 'TOTAL' }, capturedAfter };
  }

  /**
   * The checkpoint's `Update`, to fill: it renews `expiresAt` and requires the captured set's version the sink knows
   * (none, while it knows of none), so a set the sink has not seen cancels the transaction and is learned.
   */
  private checkpointUpdate(version: string | null | undefined = this.capturedVersion): CheckpointUpdate {
    const names: Record<string, string> = { '#expires': MARKER_TTL_ATTRIBUTE, '#capturedVersion': CAPTURED_VERSION_ATTRIBUTE };
    const values: Record<string, AttributeValue> = {
      ':expires': { N: String(Math.floor(Date.now() / 1000) + this.settings.markerTtlSeconds) },
    };
    const sets = ['#expires = :expires'];
    const adds: string[] = [];
    const removes: string[] = [];
    const deletes: string[] = [];
    const conditions: string[] = [];
    if (typeof version === 'string') {
      values[':capturedVersion'] = { S: version };
      conditions.push('#capturedVersion = :capturedVersion');
    } else {
      conditions.push('attribute_not_exists(#capturedVersion)');
    }
    const action = (): TransactWriteItem => ({
      Update: {
        TableName: this.settings.markerTable,
        Key: { [MARKER_KEY_ATTRIBUTE]: { S: this.checkpointKey } },
        UpdateExpression: [
          `SET ${sets.join(', ')}`,
          adds.length > 0 ? `ADD ${adds.join(', ')}` : '',
          removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
          deletes.length > 0 ? `DELETE ${deletes.join(', ')}` : '',
        ]
          .filter((clause) => clause !== '')
          .join(' '),
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        // A cancellation then carries the stored positions and captured set.
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    return { names, values, sets, adds, removes, deletes, conditions, action };
  }

  /** The condition on group `group`'s stored position, for records from `first` on. */
  private groupCondition(group: number, first: Position, update: CheckpointUpdate): string {
    const name = `#g${group}`;
    update.names[name] = groupAttribute(group);
    const known = this.known[group];
    if (known === undefined) {
      // Under ParallelizationFactor 1 a batch starts right after what Lambda saw acknowledged, so a stored
      // position below the run's first record is that of the record before it (or earlier, with no effects here).
      update.values[`:f${group}`] = { S: encodePosition(first) };
      return `(attribute_not_exists(${name}) OR ${name} < :f${group})`;
    }
    if (known === null) return `attribute_not_exists(${name})`;
    update.values[`:k${group}`] = { S: encodePosition(known) };
    return `${name} = :k${group}`;
  }

  /** Captured positions of sequence numbers before the batch's first record's: Lambda never delivers them again. */
  private prunable(): string[] {
    if (this.captured.size === 0 || this.firstSeen === undefined) return [];
    // A whole aggregate's position is the prefix of its user records', so it stays while any of them may come back.
    const first = encodePosition({ sequence: this.firstSeen.sequence, sub: -1 });
    return [...this.captured].filter((text) => text < first);
  }

  private commit(chunks: readonly Chunk[], capturedAfter: CapturedState | undefined): void {
    if (capturedAfter !== undefined) {
      this.captured = capturedAfter.captured;
      this.capturedVersion = capturedAfter.version;
    }
    for (const { group, records } of chunks) {
      this.known[group] = this.positionOf(records[records.length - 1]!);
      for (const local of records) {
        this.committedMask[local] = this.committedMask[local]! | (1 << group);
        this.committed.add(this.batchIndex[local]!);
      }
    }
  }

  /**
   * Takes in the stored positions and captured set a cancellation returned. Returns whether they changed what the
   * sink knew (else the condition failed for another reason, and the same request must not be re-sent at once).
   * Throws `DEPLOYMENT_ERROR` when a stored position lies inside this batch's records of its group but is none of
   * them (nor of the records being captured).
   */
  private learn(item: Record<string, AttributeValue> | undefined, capturing: readonly CapturedRecord[] = []): boolean {
    let changed = false;
    const version = item?.[CAPTURED_VERSION_ATTRIBUTE]?.S ?? null;
    if (version !== this.capturedVersion) {
      changed = true;
      this.capturedVersion = version;
      this.captured = new Set(version === null ? [] : (item?.[CAPTURED_ATTRIBUTE]?.SS ?? []));
    }
    for (let group = 0; group < CHECKPOINT_GROUPS; group++) {
      const text = item?.[groupAttribute(group)]?.S;
      const stored = text === undefined ? null : decodePosition(text);
      if (stored === undefined) throw this.unreadable(group, text!);
      const known = this.known[group];
      if (known === undefined || (known === null) !== (stored === null) || (known !== null && stored !== null && comparePositions(known, stored) !== 0)) {
        changed = true;
        if (stored !== null && !capturing.some(({ position }) => comparePositions(position, stored) === 0)) this.checkInside(group, stored);
        this.known[group] = stored;
      }
    }
    return changed;
  }

  /**
   * Under ParallelizationFactor 1 a delivery holds every record of its shard between its first and its last, so a
   * stored position between this batch's first and last record of the group is one of them. One that is not means
   * batches of the shard ran side by side (ParallelizationFactor above 1) or records that had effects on the group
   * have none now; applying the batch could then skip records never applied.
   */
  private checkInside(group: number, stored: Position): void {
    // A record kept as a fault may have been the group's last applied record in an earlier delivery.
    if (this.isCaptured(stored)) return;
    let first: number | undefined;
    let last: number | undefined;
    for (let local = 0; local < this.recordIds.length; local++) {
      if ((this.groupsMask[local]! & (1 << group)) === 0) continue;
      first ??= local;
      last = local;
      if (comparePositions(this.positionOf(local), stored) === 0) return;
    }
    if (first === undefined || last === undefined) return;
    if (comparePositions(stored, this.positionOf(first)) < 0 || comparePositions(stored, this.positionOf(last)) >= 0) return;
    throw new ShardflowError(
      ErrorCode.DeploymentError,
      `Sink ${this.batch.sink} found the checkpoint of ${this.streamArn} ${this.shardId} at a record this batch does not hold ` +
        `(group ${group}, sequence number ${stored.sequence}${stored.sub >= 0 ? ` #${stored.sub}` : ''}, between ` +
        `${this.recordIds[first]} and ${this.recordIds[last]}). Checkpoint mode needs one batch of a shard at a time: ` +
        'set the event source mapping\'s ParallelizationFactor to 1 (ShardflowApp does for this mode). The whole batch fails and is retried.',
    );
  }

  private unreadable(group: number, text: string): ShardflowError {
    return new ShardflowError(
      ErrorCode.DeploymentError,
      `Sink ${this.batch.sink} cannot read the checkpoint of ${this.streamArn} ${this.shardId}: group ${group} holds ` +
        `${JSON.stringify(text.slice(0, 80))}, which it did not write. Another writer shares the marker table's keys; the whole batch fails and is retried.`,
    );
  }

  private notInOrder(): ShardflowError {
    return new ShardflowError(
      ErrorCode.DeploymentError,
      `Sink ${this.batch.sink} got record ${this.outOfOrder} of ${this.streamArn} ${this.shardId} after a later record of its shard. ` +
        'Checkpoint mode needs each shard\'s records in order (Lambda delivers them so with ParallelizationFactor 1). The whole batch fails and is retried.',
    );
  }

  /**
   * The queue again after a cancellation showed stored positions (or the captured set): each group's records above
   * its position, in runs; records in the captured set go through markers instead.
   */
  private replan(queue: readonly Chunk[][]): Chunk[][] {
    const pending = new Map<number, number[]>();
    for (const transaction of queue) {
      for (const { group, records } of transaction) {
        let list = pending.get(group);
        if (list === undefined) pending.set(group, (list = []));
        list.push(...records);
      }
    }
    const chunks: Chunk[] = [];
    for (const [group, records] of pending) {
      const known = this.known[group];
      const stopped = this.stopped[group];
      const above = records.filter((local) => {
        if (this.routedToMarkers(local)) return false;
        if (stopped !== undefined && local > stopped) return false;
        if (known === null || known === undefined || comparePositions(this.positionOf(local), known) > 0) return true;
        this.skippedMask[local] = this.skippedMask[local]! | (1 << group);
        return false;
      });
      chunks.push(...this.chunksOf(group, above.sort((a, b) => a - b)));
    }
    return this.pack(chunks);
  }

  /** Whether a position, or the whole aggregate a user record came in, is in the captured set. */
  private isCaptured(position: Position): boolean {
    if (this.captured.size === 0) return false;
    return this.captured.has(encodePosition(position)) || (position.sub >= 0 && this.captured.has(encodePosition({ sequence: position.sequence, sub: -1 })));
  }

  /**
   * Whether the record is in the captured set, and so applied through markers (one per group) instead of the
   * checkpoint: its fault may be redriven, and the redrive must find what this delivery applies. Parts of it that
   * groups passed before it was kept as a fault got their markers when it was (`addCaptured`).
   */
  private routedToMarkers(local: number): boolean {
    if (this.viaMarkers.has(local)) return true;
    if (!this.isCaptured(this.positionOf(local))) return false;
    this.viaMarkers.add(local);
    const merged = new Map<string, MergedTarget>();
    for (let c = this.contributionStart[local]!; c < this.contributionEnd(local); c++) {
      const target = this.targets[this.contributionSlot[c]!]!;
      const attribute = this.contributionAttribute[c]!;
      const amount = exactAmount(this.contributionAmount[c]!, attribute, target.table, this.recordIds[local]!, this.batch.sink);
      mergeAdds(merged, target.id, target.table, target.key, [[attribute, amount]]);
    }
    this.marked.addByGroup(this.batchIndex[local]!, { recordId: this.recordIds[local]!, streamArn: this.streamArn }, targetUpdates(merged), groupOfUpdate);
    return true;
  }

  /**
   * A permanent error of a transaction does not say whose effects DynamoDB refused. Runs are tried alone, then a
   * run's records one at a time; the first refused record of a group is the culprit, and the group's records after
   * it are not sent (its position must not pass a record that is neither applied nor captured). Returns the queue to
   * go on with, `rest` being what followed the transaction.
   */
  private isolate(transaction: readonly Chunk[], error: unknown, rest: readonly Chunk[][]): Chunk[][] {
    if (transaction.length > 1) return [...transaction.map((chunk) => [chunk]), ...rest];
    const [chunk] = transaction as [Chunk];
    if (chunk.records.length > 1) return [...chunk.records.map((local) => this.chunksOf(chunk.group, [local])), ...rest];
    const culprit = chunk.records[0]!;
    this.refused.set(culprit, error);
    this.stopped[chunk.group] = culprit;
    const queue: Chunk[][] = [];
    for (const transaction of rest) {
      const kept = transaction.flatMap((other) =>
        other.group === chunk.group ? this.chunksOf(other.group, other.records.filter((local) => local < culprit)) : [other],
      );
      if (kept.length > 0) queue.push(kept);
    }
    return queue;
  }

  /** After the writes: each record applied, skipped as applied before, refused, or failed for a later delivery. */
  private async settle(refusedOnArrivalKept: boolean): Promise<void> {
    for (let local = 0; local < this.recordIds.length; local++) {
      if (this.refused.has(local) || this.viaMarkers.has(local)) continue;
      const index = this.batchIndex[local]!;
      const recordId = this.recordIds[local]!;
      const parts = this.groupsMask[local]!;
      const done = this.committedMask[local]! | this.skippedMask[local]!;
      if ((done & parts) === parts) {
        if (this.committedMask[local] === NOT_DONE_MASK && parts !== 0) this.batch.counters.duplicatesSkipped += 1;
        continue;
      }
      const behind = this.stopped.find((culprit, group) => culprit !== undefined && culprit < local && (parts & (1 << group)) !== 0);
      if (behind !== undefined) this.batch.failBehind(index, recordId, this.recordIds[behind]!);
      else this.batch.failNotAttempted(index, recordId);
    }
    if (!refusedOnArrivalKept) {
      for (const [recordId, { index }] of this.refusedOnArrival) {
        this.batch.failures.delete(index);
        this.batch.fail(index, recordId, this.batch.exhausted, true);
      }
    }
    if (this.refused.size === 0) return;
    // A record DynamoDB refused is kept as a fault only once it is in the captured set, with markers for its parts
    // that groups passed: until then it is only retried (its groups stopped before it).
    const kept = await this.addCaptured([...this.refused.keys()].map((local) => ({ recordId: this.recordIds[local]!, position: this.positionOf(local) })));
    for (const [local, error] of this.refused) this.batch.fail(this.batchIndex[local]!, this.recordIds[local]!, kept ? error : (this.batch.exhausted ?? error), !kept);
  }

  /**
   * Puts records about to be kept as faults into the checkpoint's captured set (their positions, with a new version),
   * and, in the same transaction, a marker for each group that passed a record's position (that part was applied by
   * an earlier delivery). From then on every delivery applies them through markers, as a redrive of their faults
   * does, so neither applies a part the other applied. Conditions on the stored positions and version make the
   * markers right: a cancellation teaches them, and the transaction is built again. Returns whether it was written;
   * when it was not, the batch is marked exhausted, so nothing else of it is written.
   */
  async addCaptured(records: readonly CapturedRecord[]): Promise<boolean> {
    for (const { position } of records) if (this.firstSeen === undefined || comparePositions(position, this.firstSeen) < 0) this.firstSeen = position;
    let retry = 0;
    for (let plan = this.capturedTransactions(records); plan.length > 0; ) {
      const { input, capturedAfter } = plan[0]!;
      const attempt = await this.batch.attempt(input);
      if (attempt.committed) {
        this.captured = capturedAfter.captured;
        this.capturedVersion = capturedAfter.version;
        plan.shift();
        continue;
      }
      const stored = attempt.reasons?.[0]?.Code === CONDITION_FAILED ? attempt.reasons[0].Item : undefined;
      // A record being captured may have been a group's last applied record, in an earlier delivery.
      if (attempt.reasons?.[0]?.Code === CONDITION_FAILED && this.learn(stored, records)) {
        plan = this.capturedTransactions(records);
        continue;
      }
      retry += 1;
      if (!attempt.retryable) {
        this.batch.exhausted ??= attempt.error;
        return false;
      }
      if (!(await this.batch.retry(retry, attempt.error))) return false;
    }
    return true;
  }

  /**
   * `addCaptured`'s transactions from what the sink knows: markers, at most as many per transaction as the sink's
   * transactions hold, each record's position added in the transaction holding its last marker.
   */
  private capturedTransactions(records: readonly CapturedRecord[]): BuiltCapture[] {
    const pending = records.filter(({ position }) => !this.captured.has(encodePosition(position)));
    if (pending.length === 0) return [];
    const first = pending.reduce((min, { position }) => (comparePositions(position, min) < 0 ? position : min), pending[0]!.position);
    const room = this.settings.maxItems - 1;
    const plans: { markers: string[]; added: string[] }[] = [{ markers: [], added: [] }];
    for (const { recordId, position } of pending) {
      for (let group = 0; group < CHECKPOINT_GROUPS; group++) {
        const known = this.known[group];
        if (known === null || known === undefined || comparePositions(known, position) < 0) continue;
        if (plans[plans.length - 1]!.markers.length >= room) plans.push({ markers: [], added: [] });
        plans[plans.length - 1]!.markers.push(markerKey(this.settings.scope, this.streamArn, recordId, `group ${group}`));
      }
      plans[plans.length - 1]!.added.push(encodePosition(position));
    }
    const expiresAt = String(Math.floor(Date.now() / 1000) + this.settings.markerTtlSeconds);
    let captured = this.captured;
    let version = this.capturedVersion;
    return plans.map(({ markers, added }) => {
      // Each transaction expects the version the one before it sets.
      const update = this.checkpointUpdate(version);
      // Unknown positions must be below every record added, or an earlier delivery applied part of it unseen.
      for (let group = 0; group < CHECKPOINT_GROUPS; group++) update.conditions.push(this.groupCondition(group, first, update));
      version = randomUUID();
      update.values[':newVersion'] = { S: version };
      update.sets.push('#capturedVersion = :newVersion');
      if (added.length > 0) {
        update.names['#captured'] = CAPTURED_ATTRIBUTE;
        update.values[':added'] = { SS: added };
        update.adds.push('#captured :added');
        captured = new Set([...captured, ...added]);
      }
      const items: TransactWriteItem[] = [update.action()];
      for (const marker of markers) {
        // An Update, not a Put: a marker a redrive wrote keeps its digest.
        items.push({
          Update: {
            TableName: this.settings.markerTable,
            Key: { [MARKER_KEY_ATTRIBUTE]: { S: marker } },
            UpdateExpression: 'SET #expires = :expires',
            ExpressionAttributeNames: { '#expires': MARKER_TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ':expires': { N: expiresAt } },
          },
        });
      }
      return { input: { TransactItems: items, ClientRequestToken: randomUUID() }, capturedAfter: { captured, version } };
    });
  }
}

/** A checkpoint group of a target, for markers. */
const groupOfUpdate = (target: TargetUpdate): number => checkpointGroupOf(target.id);

/** The checkpoint's captured set and its version after a transaction. */
interface CapturedState {
  readonly captured: ReadonlySet<string>;
  readonly version: string | null;
}

interface BuiltTransaction {
  readonly input: TransactionInput;
  /** The captured set after the transaction commits, when it changes it. */
  readonly capturedAfter: CapturedState | undefined;
}

interface BuiltCapture {
  readonly input: TransactionInput;
  readonly capturedAfter: CapturedState;
}

/** The checkpoint item's `Update` being built: the clauses of its expressions, and the action they make. */
interface CheckpointUpdate {
  readonly names: Record<string, string>;
  readonly values: Record<string, AttributeValue>;
  readonly sets: string[];
  readonly adds: string[];
  readonly removes: string[];
  readonly deletes: string[];
  readonly conditions: string[];
  action(): TransactWriteItem;
}

function newChunk(group: number): Chunk {
  return { group, records: [], sums: new Map(), bytes: 0 };
}
