/**
 * Marker mode of the exactly-once DynamoDB sink (docs/decisions/exactly-once.md): for each record, a dedupe marker
 * item keyed by sink scope, stream ARN and recordId is put with `attribute_not_exists` in the SAME TransactWriteItems
 * as the ADD updates the record asked for. A marker that already exists cancels the transaction and names the record
 * as applied; the rest is sent again without it. Records are cut into units (a record, or a part of one that
 * touches more items than a transaction holds) as they arrive, and packed into transactions in batch order.
 */
import { randomUUID } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { PipelineLogger } from '../runtime/logging';
import type { StreamRecord } from '../runtime/model';
import type { AddEffect } from '../runtime/types';
import { aggregate, digestOf, mergeAdds, updateAction, type MergedTarget, type TargetUpdate } from './dynamodb-targets';
import { CONDITION_FAILED, MAX_TRANSACTION_BYTES, type BatchWrites, type TransactionInput } from './dynamodb-transactions';

/** Partition key (S) of the marker table; the checkpoint items share it. */
export const MARKER_KEY_ATTRIBUTE = 'pk';
/** Epoch seconds after which DynamoDB's TTL process may delete a marker (or a checkpoint nothing advanced since). */
export const MARKER_TTL_ATTRIBUTE = 'expiresAt';
/** A digest of the effects a marker's unit applied, to tell a re-delivery from another record with the same id. */
const MARKER_DIGEST_ATTRIBUTE = 'digest';

/** Where markers go, and what names them. */
export interface MarkerSettings {
  readonly markerTable: string;
  readonly scope: string;
  readonly markerTtlSeconds: number;
  readonly maxItems: number;
  readonly logger: PipelineLogger;
}

/** What one marker protects: all of a record's updates, or one part when they do not fit in one transaction. */
interface Unit {
  /** The record's index in the batch. */
  readonly record: number;
  readonly recordId: string;
  readonly marker: string;
  readonly targets: readonly TargetUpdate[];
  readonly bytes: number;
  /** What the unit applies, as `digestOf` its targets: stored with the marker. */
  readonly digest: string;
}

/** What names a record's markers. */
export type MarkedRecord = Pick<StreamRecord, 'recordId' | 'streamArn'>;

/** The marker of a record (`part` names one part of it: a part that did not fit a transaction, a checkpoint group). */
export function markerKey(scope: string, streamArn: string, recordId: string, part?: string): string {
  return part === undefined ? `${scope}|${streamArn}|${recordId}` : `${scope}|${streamArn}|${recordId}|${part}`;
}

/** Marker mode's half of one batch: units packed into transactions as records arrive, written at `flush`. */
export class MarkerWrites {
  /** Transactions packed so far; the last one is still being filled. */
  private readonly transactions: Unit[][] = [];
  private current: Unit[] = [];
  private currentTargets = new Set<string>();
  private currentBytes = 0;
  /** Markers seen in this batch, with the first copy's index and digest. */
  private readonly seen = new Map<string, { readonly index: number; readonly digest: string }>();
  /** Second copies of a record in the same batch, to the index of the first copy: they share its outcome. */
  readonly copies = new Map<number, number>();
  /** Records some of whose units committed now. */
  readonly committed = new Set<number>();

  constructor(
    private readonly settings: MarkerSettings,
    private readonly batch: BatchWrites,
  ) {}

  /**
   * Adds a record's effects: aggregated per target item, cut into units and packed. `groupOf` splits them into the
   * parts of a checkpoint-mode record redriven through markers (a marker per checkpoint group).
   */
  add(index: number, record: MarkedRecord, effects: readonly AddEffect[], groupOf?: (target: TargetUpdate) => number): void {
    let targets: TargetUpdate[] | undefined;
    let error: unknown;
    try {
      targets = aggregate(effects, record.recordId, this.batch.sink);
    } catch (caught) {
      error = caught;
    }
    const marker = markerKey(this.settings.scope, record.streamArn, record.recordId);
    const digest = targets === undefined ? 'invalid' : digestOf(targets);
    // The same record twice in one batch (a caller concatenating deliveries): one marker cannot be put twice in a
    // transaction, and the second copy is a duplicate anyway.
    const first = this.seen.get(marker);
    if (first !== undefined) {
      this.batch.counters.duplicatesSkipped += 1;
      if (digest !== first.digest) this.conflicting(record.recordId, marker);
      this.copies.set(index, first.index);
      return;
    }
    this.seen.set(marker, { index, digest });
    if (targets === undefined) {
      this.batch.failures.set(index, { recordId: record.recordId, error });
      return;
    }
    this.addParts(index, record, targets, marker, digest, groupOf);
  }

  /**
   * Adds a checkpoint-mode record through markers, one per checkpoint group (`groupOf`), from its targets already
   * summed: a record the checkpoint keeps in its captured set.
   */
  addByGroup(index: number, record: MarkedRecord, targets: readonly TargetUpdate[], groupOf: (target: TargetUpdate) => number): void {
    this.addParts(index, record, targets, markerKey(this.settings.scope, record.streamArn, record.recordId), undefined, groupOf);
  }

  /**
   * Cuts a record's targets into units, one per part, and packs them. `marker` is the record's own; `digest`, of all
   * its targets, when already computed.
   */
  private addParts(
    index: number,
    record: MarkedRecord,
    targets: readonly TargetUpdate[],
    marker: string,
    digest: string | undefined,
    groupOf: ((target: TargetUpdate) => number) | undefined,
  ): void {
    const { scope, maxItems } = this.settings;
    for (const [part, partTargets] of partsOf(targets, groupOf)) {
      const pieces = split(partTargets, maxItems);
      pieces.forEach((piece, pieceIndex) => {
        // Parts are cut deterministically (targets sorted), so part k of a record is the same on every delivery.
        const name = [part, pieces.length === 1 ? undefined : `part ${pieceIndex + 1}/${pieces.length}`].filter((s) => s !== undefined).join('|');
        this.pack({
          record: index,
          recordId: record.recordId,
          marker: name === '' ? marker : markerKey(scope, record.streamArn, record.recordId, name),
          targets: piece,
          bytes: piece.reduce((sum, target) => sum + target.bytes, marker.length + 100),
          digest: name === '' ? (digest ?? digestOf(piece)) : digestOf(piece),
        });
      });
    }
  }

  /**
   * Greedy packing in batch order: a unit joins the current transaction while markers plus distinct target items
   * stay within `maxItems` actions and the size estimate within 4 MB. Effects on an item already in the transaction
   * cost no action: they are merged into its one Update.
   */
  private pack(unit: Unit): void {
    const added = unit.targets.filter((target) => !this.currentTargets.has(target.id)).length;
    const items = this.current.length + 1 + this.currentTargets.size + added;
    if (this.current.length > 0 && (items > this.settings.maxItems || this.currentBytes + unit.bytes > MAX_TRANSACTION_BYTES)) {
      this.transactions.push(this.current);
      this.current = [];
      this.currentTargets = new Set();
      this.currentBytes = 0;
    }
    this.current.push(unit);
    for (const target of unit.targets) this.currentTargets.add(target.id);
    this.currentBytes += unit.bytes;
  }

  /** Writes the packed transactions in order. */
  async flush(): Promise<void> {
    if (this.current.length > 0) this.transactions.push(this.current);
    for (const transaction of this.transactions) await this.run(transaction);
  }

  /**
   * A record dropped as a duplicate although what it would apply differs from the first application: the same
   * record id with other content. The first application stands (a marker admits one); this says so.
   */
  private conflicting(recordId: string, marker: string): void {
    this.batch.counters.conflictingDuplicates += 1;
    this.settings.logger.warn('Record dropped as a duplicate, but its effects differ from those applied under its id before', {
      sink: this.batch.sink,
      recordId,
      marker,
      reason: 'the same record id arrived with other content (a reused or forged eventID, or a processor that changed between deliveries)',
    });
  }

  /** Applies one packed transaction, dropping already-applied units and retrying what a retry can fix. */
  private async run(units: readonly Unit[]): Promise<void> {
    const batch = this.batch;
    let pending = units;
    let retry = 0;
    const expiresAt = Math.floor(Date.now() / 1000) + this.settings.markerTtlSeconds;
    // Built once per distinct set of pending units. Re-sends of one set carry the same ClientRequestToken, so a
    // re-send after a lost response is a no-op at DynamoDB. The token covers re-sends within this loop only: a later
    // delivery of the same records is caught by their markers instead, which costs the same one request and, unlike
    // a token replay, shows up as duplicates.
    let built: { readonly units: readonly Unit[]; readonly input: TransactionInput } | undefined;
    while (pending.length > 0) {
      if (batch.exhausted !== undefined) {
        for (const unit of pending) batch.failNotAttempted(unit.record, unit.recordId);
        return;
      }
      const sent = pending;
      if (built?.units !== sent) built = { units: sent, input: this.transaction(sent, expiresAt) };
      const attempt = await batch.attempt(built.input);
      if (attempt.committed) {
        for (const unit of sent) this.committed.add(unit.record);
        return;
      }
      const { reasons, error } = attempt;
      if (reasons !== undefined) {
        // Markers come first, in the order of `sent`: a failed condition there means "applied before".
        const duplicates = new Set(sent.filter((_, index) => reasons[index]?.Code === CONDITION_FAILED));
        batch.counters.duplicatesSkipped += duplicates.size;
        sent.forEach((unit, index) => {
          // Markers written before digests were stored have none: nothing to compare.
          const applied = reasons[index]?.Item?.[MARKER_DIGEST_ATTRIBUTE]?.S;
          if (duplicates.has(unit) && applied !== undefined && applied !== unit.digest) this.conflicting(unit.recordId, unit.marker);
        });
        if (duplicates.size > 0) {
          pending = sent.filter((unit) => !duplicates.has(unit));
          const others = reasons.some((reason, index) => !(index < sent.length && reason.Code === CONDITION_FAILED) && reason.Code !== undefined && reason.Code !== 'None');
          // Only dropping duplicates changes the request; a cancellation that names no reason at all is retried
          // with a pause and a counted attempt like any other, or the same request would be re-sent forever.
          if (!others) continue;
        }
      }
      if (!attempt.retryable) {
        await this.isolate(pending, error);
        return;
      }
      retry += 1;
      if (!(await batch.retry(retry, error))) {
        for (const unit of pending) batch.fail(unit.record, unit.recordId, error, true);
        return;
      }
    }
  }

  /**
   * A permanent error of a transaction holding several records does not say whose effects DynamoDB refused (a
   * ValidationException has no per-action reason), so each unit is tried alone and only the culprits fail.
   */
  private async isolate(units: readonly Unit[], error: unknown): Promise<void> {
    if (units.length === 0) return;
    if (units.length === 1) {
      const [unit] = units as [Unit];
      this.batch.fail(unit.record, unit.recordId, error, false);
      return;
    }
    for (const unit of units) await this.run([unit]);
  }

  private transaction(units: readonly Unit[], expiresAt: number): TransactionInput {
    const items: TransactWriteItem[] = units.map((unit) => ({
      Put: {
        TableName: this.settings.markerTable,
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
      const target = merged.get(id)!;
      items.push(updateAction({ id, table: target.table, key: target.key }, target.add));
    }
    return { TransactItems: items, ClientRequestToken: randomUUID(), ReturnConsumedCapacity: 'TOTAL' };
  }
}

/** A record's targets by part: one part, or one per checkpoint group (`groupOf`), in group order. */
function partsOf(targets: readonly TargetUpdate[], groupOf: ((target: TargetUpdate) => number) | undefined): [string | undefined, TargetUpdate[]][] {
  if (groupOf === undefined) return [[undefined, [...targets]]];
  const groups = new Map<number, TargetUpdate[]>();
  for (const target of targets) {
    const group = groupOf(target);
    const list = groups.get(group);
    if (list === undefined) groups.set(group, [target]);
    else list.push(target);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([group, list]) => [`group ${group}`, list]);
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
