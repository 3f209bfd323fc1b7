/**
 * One entry point from a raw Lambda record to `StreamRecord`s, reporting failures as values so one bad record
 * never stops the rest of a batch from being decoded.
 */
import { canonicalKey, normalizeDynamoDBRecord, releaseDynamoDBRecord } from './dynamodb';
import { ErrorCode, ShardflowError, errorMessage, isShardflowError } from './errors';
import { nestsDeeperThan } from './json-text';
import { decodeKinesisRecord, releaseKinesisRecord, shardIdFromEventId, userRecordRaw } from './kinesis';
import { RecordSource, type Provenance, type StreamRecord } from './model';
import { UNLIMITED_INFLATION, type InflationBudget } from './payload';
import { isDynamoDBSequenceNumber, isObject, isSequenceNumber, recordError } from './record-fields';

export type NormalizeResult =
  | { readonly ok: true; readonly records: readonly StreamRecord[] }
  | {
      readonly ok: false;
      readonly error: ShardflowError;
      /** Whatever could be read from the record, to report or capture it. */
      readonly provenance: Partial<Provenance>;
      readonly raw: unknown;
      readonly position: number;
    };

/**
 * Normalizes the record at `position` of a batch: one `StreamRecord`, or several for a KPL aggregate.
 * Never throws: undecodable records come back as `ok: false` with a permanent `ShardflowError` naming the
 * record. A failure that is not about the data (a bug) comes back as a retryable `UNEXPECTED` error.
 */
export function normalizeRecord(raw: unknown, position: number): NormalizeResult {
  try {
    const decoded = decodeRecord(raw, position);
    return { ok: true, records: Array.isArray(decoded) ? decoded : [decoded] };
  } catch (caught) {
    return normalizeFailure(caught, raw, position);
  }
}

/**
 * The batch loop's form of `normalizeRecord`: the record alone (an array only for a KPL aggregate), and a thrown
 * error, to be turned into a result by `normalizeFailure`. Saves two allocations per record. Gzip payloads
 * inflate within the batch's `budget` when they are read.
 */
export function decodeRecord(raw: unknown, position: number, budget: InflationBudget = UNLIMITED_INFLATION): StreamRecord | StreamRecord[] {
  if (!isObject(raw)) {
    throw recordError(ErrorCode.MissingField, undefined, position, 'it is not an object');
  }
  const source = raw.eventSource;
  if (source === RecordSource.Kinesis) return decodeKinesisRecord(raw, position, budget);
  if (source === RecordSource.DynamoDB) return normalizeDynamoDBRecord(raw, position);
  const eventID = typeof raw.eventID === 'string' && raw.eventID.length > 0 ? raw.eventID : undefined;
  throw recordError(
    ErrorCode.UnknownEventSource,
    eventID,
    position,
    `its eventSource ${describeSource(source)}, expected "aws:kinesis" or "aws:dynamodb"`,
  );
}

/** What `normalizeRecord` returns when decoding the record at `position` threw `caught`. */
export function normalizeFailure(caught: unknown, raw: unknown, position: number): Extract<NormalizeResult, { ok: false }> {
  const error = isShardflowError(caught)
    ? caught
    : new ShardflowError(
        ErrorCode.Unexpected,
        `Record at batch position ${position} could not be normalized because of an unexpected error: ${errorMessage(caught)}.`,
        { cause: caught },
      );
  return { ok: false, error, provenance: safeProvenance(raw), raw, position };
}

/**
 * Drops what processors decoded from a record (payload bytes, text and JSON, converted keys and images); a later
 * read decodes again. The batch loop calls it once the record's processors are done: a sink's `apply` batch keeps
 * the record alive until the sinks ran, its decoded data need not.
 */
export function releaseRecord(record: StreamRecord): void {
  if (record.source === RecordSource.Kinesis) releaseKinesisRecord(record);
  else releaseDynamoDBRecord(record);
}

/**
 * The field `redriveEvents` sets on every record it replays: the stages its faults were captured at (or `true`: every
 * stage). A sink that keeps a checkpoint per shard applies such a record through markers, since the shard's checkpoint
 * passed it when it was captured; and when every stage named is a sink, the other sinks had applied the record and do
 * not get it again. Lambda's records never have it (a producer controls a record's data and partition key, not the
 * envelope).
 */
export const REDRIVE_FIELD = 'shardflowRedrive';

function redriveMark(record: Pick<StreamRecord, 'raw'>): unknown {
  return (record.raw as Record<string, unknown> | null)?.[REDRIVE_FIELD];
}

/** Whether the record (or a raw record that could not be decoded, as `{ raw }`) is a fault being redriven (see `REDRIVE_FIELD`). */
export function isRedriven(record: Pick<StreamRecord, 'raw'>): boolean {
  const mark = redriveMark(record);
  return mark === true || Array.isArray(mark);
}

/** The stages a redriven record's faults were captured at; undefined when it is not redriven or names none. */
export function redriveStages(record: StreamRecord): readonly string[] | undefined {
  const mark = redriveMark(record);
  return Array.isArray(mark) && mark.length > 0 && mark.every((stage) => typeof stage === 'string') ? (mark as string[]) : undefined;
}

/**
 * The record as a fault keeps it: as delivered (a redrive's mark removed), except a KPL user record, which is kept on
 * its own with its parent's identifiers rather than as the whole aggregate (see `userRecordRaw`).
 */
export function faultRaw(record: StreamRecord): unknown {
  const raw = record.source === RecordSource.Kinesis ? userRecordRaw(record) : record.raw;
  if (!isObject(raw) || !(REDRIVE_FIELD in raw)) return raw;
  const { [REDRIVE_FIELD]: _redrive, ...delivered } = raw;
  return delivered;
}

function describeSource(source: unknown): string {
  if (source === undefined) return 'is missing';
  if (typeof source === 'string') return `is ${JSON.stringify(source.length > 60 ? `${source.slice(0, 60)}...` : source)}`;
  return `is ${source === null ? 'null' : `a ${typeof source}`}`;
}

/** Keys within DynamoDB's 32 levels: two JSON levels per AttributeValue level (`{"M": {...}}`), and a margin. */
const MAX_KEY_JSON_DEPTH = 2 * 32 + 2;

type MutableProvenance = { -readonly [K in keyof Provenance]?: Provenance[K] };

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function safeProvenance(raw: unknown): Partial<Provenance> {
  try {
    return readProvenance(raw);
  } catch {
    // Only objects that are not JSON (throwing getters) get here; report what the error already says.
    return {};
  }
}

function checkedSequenceNumber(value: unknown, valid: (value: string) => boolean): string | undefined {
  return typeof value === 'string' && valid(value) ? value : undefined;
}

/**
 * The sequence number of a raw record when its source's decoder would accept it, `undefined` otherwise: only
 * such a sequence number may become an itemIdentifier of the partial batch response.
 */
export function rawSequenceNumber(raw: unknown): string | undefined {
  if (!isObject(raw)) return undefined;
  if (raw.eventSource === RecordSource.Kinesis) {
    return isObject(raw.kinesis) ? checkedSequenceNumber(raw.kinesis.sequenceNumber, isSequenceNumber) : undefined;
  }
  if (raw.eventSource === RecordSource.DynamoDB) {
    return isObject(raw.dynamodb) ? checkedSequenceNumber(raw.dynamodb.SequenceNumber, isDynamoDBSequenceNumber) : undefined;
  }
  return undefined;
}

/** What can be read from a record that failed to normalize; a sequence number only when it is usable. */
function readProvenance(raw: unknown): Partial<Provenance> {
  const provenance: MutableProvenance = {};
  if (!isObject(raw)) return provenance;
  const eventID = stringOrUndefined(raw.eventID);
  const streamArn = stringOrUndefined(raw.eventSourceARN);
  const sequenceNumber = rawSequenceNumber(raw);
  if (eventID !== undefined) provenance.eventID = eventID;
  if (streamArn !== undefined) provenance.streamArn = streamArn;
  if (sequenceNumber !== undefined) provenance.sequenceNumber = sequenceNumber;
  if (raw.eventSource === RecordSource.Kinesis) {
    provenance.source = RecordSource.Kinesis;
    const shardId = eventID === undefined ? undefined : shardIdFromEventId(eventID);
    if (shardId !== undefined) provenance.shardId = shardId;
    if (isObject(raw.kinesis)) {
      const partitionKey = stringOrUndefined(raw.kinesis.partitionKey);
      if (partitionKey !== undefined) provenance.partitionKey = partitionKey;
    }
  } else if (raw.eventSource === RecordSource.DynamoDB) {
    provenance.source = RecordSource.DynamoDB;
    // Keys that failed their check may nest deeper than the canonical key's JSON.stringify can go.
    if (isObject(raw.dynamodb) && isObject(raw.dynamodb.Keys) && !nestsDeeperThan(raw.dynamodb.Keys, MAX_KEY_JSON_DEPTH)) {
      provenance.partitionKey = canonicalKey(raw.dynamodb.Keys);
    }
  }
  return provenance;
}
