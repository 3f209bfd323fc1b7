/**
 * Redrive: faults replayed as the Lambda events they came in, through the same handler, and deleted once their
 * records went through. Safe because sinks are idempotent: sub-records that had succeeded are skipped as duplicates.
 */
import { errorMessage } from '../runtime/errors';
import { jsonText } from '../runtime/json-text';
import { REDRIVE_FIELD } from '../runtime/normalize';
import type { PartialBatchResponse } from '../runtime/model';
import type { Fault } from '../runtime/types';
import { compareStreamOrder, type FaultStore, type ListFaultsOptions } from './fault-store';

/** A Lambda stream event rebuilt from faults: the raw records, in stream order. */
export interface RedriveEvent {
  readonly Records: unknown[];
}

/** Replays one event, e.g. through the app's Lambda handler. */
export type Replay = (event: RedriveEvent) => Promise<PartialBatchResponse | void>;

export interface RedriveReport {
  /** Events replayed (one per stream and shard). */
  readonly events: number;
  /** Faults whose records went through without failing, and were deleted. */
  readonly deleted: number;
  /** Faults kept: their record failed again, was captured again, or the replay threw. */
  readonly kept: number;
  /** Errors thrown by the replay, one per failed event. */
  readonly errors: readonly string[];
}

/**
 * Groups faults into Lambda events, one per stream and shard, records in sequence order. Records that appear in
 * several faults (KPL sub-records of one aggregate, or one record failing at two stages) appear once: redriving a
 * whole aggregate re-applies the sub-records that had succeeded, which the idempotent DynamoDB sink skips. Each
 * record carries `REDRIVE_FIELD` with the stages its faults were captured at: a sink in checkpoint mode applies it
 * through markers (the shard's checkpoint passed it when it was captured), and a record that failed only in some
 * sinks goes only to those (the others applied it, and a checkpoint leaves no marker to skip it by).
 */
export function redriveEvents<F extends Fault>(faults: readonly F[]): { event: RedriveEvent; faults: F[] }[] {
  const groups = new Map<string, F[]>();
  for (const fault of faults) {
    const key = `${fault.provenance.streamArn ?? ''}|${fault.provenance.shardId ?? ''}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [fault]);
    else group.push(fault);
  }
  return [...groups.values()].map((group) => {
    const ordered = [...group].sort(compareStreamOrder);
    // One record per raw record, marked with the stages of all its faults.
    const stages = new Map<string, Set<string>>();
    const records: { raw: unknown; stages: Set<string> }[] = [];
    for (const fault of ordered) {
      const identity = jsonText(fault.raw);
      let seen = stages.get(identity);
      if (seen === undefined) {
        stages.set(identity, (seen = new Set()));
        records.push({ raw: fault.raw, stages: seen });
      }
      seen.add(fault.stage);
    }
    return {
      event: { Records: records.map(({ raw, stages }) => (typeof raw === 'object' && raw !== null ? { ...raw, [REDRIVE_FIELD]: [...stages] } : raw)) },
      faults: ordered,
    };
  });
}

/**
 * Replays stored faults through `replay` and deletes those whose records went through. A fault stays when its
 * sequence number is in the replay's `batchItemFailures`, when it was captured again during the replay (a
 * permanent error again), or when the replay threw.
 */
export async function redriveFaults(store: FaultStore, replay: Replay, options: ListFaultsOptions = {}): Promise<RedriveReport> {
  const stored = await store.listFaults(options);
  let deleted = 0;
  let kept = 0;
  const errors: string[] = [];
  const groups = redriveEvents(stored);
  for (const { event, faults } of groups) {
    let failedSequences: Set<string>;
    try {
      const response = await replay(event);
      failedSequences = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      errors.push(errorMessage(error));
      kept += faults.length;
      continue;
    }
    for (const fault of faults) {
      const sequence = fault.provenance.sequenceNumber;
      // Without a sequence number there is no telling whether it failed, unless nothing did.
      const failed = sequence === undefined ? failedSequences.size > 0 : failedSequences.has(sequence);
      if (!failed && (await store.deleteFault(fault.faultId, { captureId: fault.captureId }))) deleted += 1;
      else kept += 1;
    }
  }
  return { events: groups.length, deleted, kept, errors };
}
