/**
 * Fault stores: where records that failed permanently are kept, with their data, instead of blocking the shard.
 * Lambda's on-failure destinations drop the data; a store keeps the record exactly as delivered, so it can be
 * listed, inspected and redriven (`redrive.ts`) through the same handler once the cause is fixed. The stores are
 * `DynamoDBFaultSink` (a table) and `FileFaultSink` (a JSONL file, for development).
 */
import { createHash } from 'node:crypto';
import { jsonText } from '../runtime/json-text';
import { compareSequenceNumbers } from '../runtime/model';
import type { Fault, FaultSink } from '../runtime/types';

/** A fault as kept by a fault store. */
export interface StoredFault extends Fault {
  /**
   * Id of the fault: the same record (the same identifiers and content) failing at the same stage again overwrites
   * it; any other record, or the same eventID with other content, gets a fault of its own.
   */
  readonly faultId: string;
  /** Id of this capture; a redrive deletes a fault only if it was not captured again meanwhile. */
  readonly captureId: string;
}

export interface ListFaultsOptions {
  /** Only faults of records from this stream (Kinesis or DynamoDB stream ARN). */
  readonly streamArn?: string;
  /** At most this many faults (the oldest first when the store can tell). */
  readonly limit?: number;
}

export interface DeleteFaultOptions {
  /** Delete only if the fault still holds this capture (it was not captured again since it was listed). */
  readonly captureId?: string;
}

/** A fault sink whose faults can be listed, deleted and redriven. */
export interface FaultStore extends FaultSink {
  /** Faults ordered by capture time, then stream, shard and sequence number. */
  listFaults(options?: ListFaultsOptions): Promise<StoredFault[]>;
  /** Deletes a fault; resolves `false` when there was none (or it was captured again, with `captureId`). */
  deleteFault(faultId: string, options?: DeleteFaultOptions): Promise<boolean>;
}

/**
 * Key of a fault: stream, record, stage and a digest of the record as kept (`rawText`, its JSON). The digest makes
 * ids unique per record: records without an eventID are named by their batch position, which another delivery
 * reuses for another record, and one eventID may arrive with other content. The same record captured again (a
 * re-delivery) keeps its id. Hashed as a whole when it would not fit a DynamoDB key comfortably.
 */
export function faultIdOf(fault: Pick<Fault, 'recordId' | 'stage' | 'provenance' | 'raw'>, rawText = jsonText(fault.raw)): string {
  const digest = createHash('sha256').update(rawText).digest('hex').slice(0, 32);
  const id = `${fault.provenance.streamArn ?? 'unknown-stream'}|${fault.recordId}|${fault.stage}|${digest}`;
  return Buffer.byteLength(id) <= 1024 ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Redrive

/** The fields faults are ordered by: a stored fault's metadata has them without its raw data. */
type Ordered = Pick<Fault, 'provenance' | 'position' | 'capturedAt'>;

export function compareStreamOrder(a: Omit<Ordered, 'capturedAt'>, b: Omit<Ordered, 'capturedAt'>): number {
  const sa = a.provenance.sequenceNumber;
  const sb = b.provenance.sequenceNumber;
  if (sa !== undefined && sb !== undefined && sa !== sb) return compareSequenceNumbers(sa, sb);
  return (a.provenance.subSequenceNumber ?? 0) - (b.provenance.subSequenceNumber ?? 0) || a.position - b.position;
}

export function compareStored(a: Ordered, b: Ordered): number {
  if (a.capturedAt !== b.capturedAt) return a.capturedAt - b.capturedAt;
  const streams = (a.provenance.streamArn ?? '').localeCompare(b.provenance.streamArn ?? '');
  if (streams !== 0) return streams;
  return (a.provenance.shardId ?? '').localeCompare(b.provenance.shardId ?? '') || compareStreamOrder(a, b);
}
