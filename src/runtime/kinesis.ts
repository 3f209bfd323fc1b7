/**
 * Kinesis records as Lambda delivers them -> `KinesisStreamRecord`s: strict base64, gzip, KPL deaggregation.
 */
import { ErrorCode } from './errors';
import { deaggregate, isKplAggregate } from './kpl';
import { RecordKind, RecordSource, type KinesisStreamRecord, type Payload } from './model';
import { BytesPayload, bytesPayload, decodeBase64Strict } from './payload';
import {
  isSequenceNumber,
  missingField,
  optionalString,
  recordError,
  requireFiniteNumber,
  requireObject,
  requireSequenceNumber,
  requireString,
  type RawObject,
} from './record-fields';

interface RawKinesisSection {
  readonly data: string;
  readonly approximateArrivalTimestamp: number;
}

/**
 * A record keeps only what it cannot cheaply derive again: a batch keeps every record alive until its sinks ran,
 * so each field costs memory the garbage collector has to copy. Constants and what follows from validated
 * fields (shard id, stream name, arrival time) are getters; `source` and `kind` live on the prototype.
 * Fields are `declare`d and assigned in the constructor: with ES2022 class fields, parameter properties and
 * initializers would define each field twice per record.
 */
class KinesisRecord implements KinesisStreamRecord {
  declare readonly eventID: string;
  declare readonly recordId: string;
  declare readonly streamArn: string;
  declare readonly partitionKey: string;
  declare readonly explicitHashKey: string | undefined;
  declare readonly sequenceNumber: string;
  declare readonly subSequenceNumber: number | undefined;
  declare readonly position: number;
  declare readonly awsRegion: string | undefined;
  declare readonly raw: unknown;
  /** Undefined after `release()` when the bytes can be decoded again from the raw record's base64. */
  #payload: BytesPayload | undefined;

  constructor(
    eventID: string,
    recordId: string,
    streamArn: string,
    partitionKey: string,
    explicitHashKey: string | undefined,
    sequenceNumber: string,
    subSequenceNumber: number | undefined,
    position: number,
    awsRegion: string | undefined,
    raw: unknown,
    payload: BytesPayload,
  ) {
    this.eventID = eventID;
    this.recordId = recordId;
    this.streamArn = streamArn;
    this.partitionKey = partitionKey;
    this.explicitHashKey = explicitHashKey;
    this.sequenceNumber = sequenceNumber;
    this.subSequenceNumber = subSequenceNumber;
    this.position = position;
    this.awsRegion = awsRegion;
    this.raw = raw;
    this.#payload = payload;
  }

  get source(): typeof RecordSource.Kinesis {
    return RecordSource.Kinesis;
  }

  get kind(): typeof RecordKind.KinesisRecord {
    return RecordKind.KinesisRecord;
  }

  get aggregated(): boolean {
    return this.subSequenceNumber !== undefined;
  }

  // Both were checked when the record was normalized.
  get shardId(): string {
    return shardIdFromEventId(this.eventID) as string;
  }

  get streamName(): string {
    return streamNameFromArn(this.streamArn) as string;
  }

  get arrivalTime(): number {
    return Math.round(this.#section().approximateArrivalTimestamp * 1000);
  }

  get payload(): Payload {
    // Only a plain record's payload is ever dropped: its bytes are the raw data, already checked as base64.
    this.#payload ??= new BytesPayload(Buffer.from(this.#section().data, 'base64'), false, this.recordId);
    return this.#payload;
  }

  /**
   * Drops what the record's processors decoded. A plain record drops its payload (the base64 data in the raw
   * record is decoded again if it is read later); a gzip or KPL record keeps its bytes and drops text and JSON.
   */
  release(): void {
    const payload = this.#payload;
    if (payload === undefined) return;
    if (payload.gzipped || this.subSequenceNumber !== undefined) payload.release();
    else this.#payload = undefined;
  }

  #section(): RawKinesisSection {
    return (this.raw as { readonly kinesis: RawKinesisSection }).kinesis;
  }
}

const STREAM_MARKER = ':stream/';

/**
 * `arn:aws:kinesis:<region>:<account>:stream/<name>`; an enhanced fan-out consumer ARN continues with
 * `/consumer/...`. Undefined when the ARN names no stream.
 */
export function streamNameFromArn(arn: string): string | undefined {
  // A batch comes from one stream: parse its ARN once.
  if (arn === lastArn) return lastStreamName;
  const name = parseStreamName(arn);
  lastArn = arn;
  lastStreamName = name;
  return name;
}

let lastArn: string | undefined;
let lastStreamName: string | undefined;

function parseStreamName(arn: string): string | undefined {
  const at = arn.indexOf(STREAM_MARKER);
  if (at === -1 || !arn.startsWith('arn:')) return undefined;
  const start = at + STREAM_MARKER.length;
  const end = arn.indexOf('/', start);
  const name = end === -1 ? arn.slice(start) : arn.slice(start, end);
  return name.length === 0 ? undefined : name;
}

/** `eventID` is `<shardId>:<sequenceNumber>` in every published example (no spec defines it). */
export function shardIdFromEventId(eventID: string): string | undefined {
  // A batch comes from one shard: reuse the last shard id (it holds no ':', so this is the first ':').
  const last = lastShardId;
  if (eventID.charCodeAt(last.length) === COLON && eventID.startsWith(last)) return last;
  const at = eventID.indexOf(':');
  if (at <= 0) return undefined;
  lastShardId = eventID.slice(0, at);
  return lastShardId;
}

const COLON = 58;
// Never empty, so an eventID starting with ':' cannot match it.
let lastShardId = 'shardId-000000000000';

/**
 * Normalizes one Kinesis record: one `KinesisStreamRecord`, or one per user record when the data is a KPL
 * aggregate (sharing the parent's sequence number, told apart by `subSequenceNumber`). Throws a permanent
 * `ShardflowError` naming the record when it cannot be decoded.
 */
export function normalizeKinesisRecord(raw: unknown, position: number): KinesisStreamRecord[] {
  const result = decodeKinesisRecord(raw, position);
  return Array.isArray(result) ? result : [result];
}

/** `normalizeKinesisRecord` without the array for the common case: a plain record comes back alone. */
export function decodeKinesisRecord(raw: unknown, position: number): KinesisStreamRecord | KinesisStreamRecord[] {
  // Hot path: every check inline; any failure goes to `rejectKinesisRecord`, which finds and names it.
  if (typeof raw !== 'object' || raw === null) return rejectKinesisRecord(raw, position);
  const record = raw as RawObject;
  const eventID = record.eventID;
  const streamArn = record.eventSourceARN;
  const kinesis = record.kinesis;
  const region = record.awsRegion;
  if (
    typeof eventID !== 'string' ||
    typeof streamArn !== 'string' ||
    typeof kinesis !== 'object' ||
    kinesis === null ||
    (region !== undefined && region !== null && typeof region !== 'string')
  ) {
    return rejectKinesisRecord(raw, position);
  }
  const { partitionKey, sequenceNumber, data, approximateArrivalTimestamp } = kinesis as RawObject;
  if (
    typeof partitionKey !== 'string' ||
    partitionKey.length === 0 ||
    typeof sequenceNumber !== 'string' ||
    !isSequenceNumber(sequenceNumber) ||
    typeof approximateArrivalTimestamp !== 'number' ||
    !Number.isFinite(approximateArrivalTimestamp) ||
    typeof data !== 'string' ||
    streamNameFromArn(streamArn) === undefined ||
    shardIdFromEventId(eventID) === undefined
  ) {
    return rejectKinesisRecord(raw, position);
  }
  const bytes = decodeBase64Strict(data);
  if (bytes === undefined) return rejectKinesisRecord(raw, position);
  const awsRegion = region === null ? undefined : region;

  if (!isKplAggregate(bytes)) {
    return new KinesisRecord(eventID, eventID, streamArn, partitionKey, undefined, sequenceNumber, undefined, position,
      awsRegion, raw, bytesPayload(bytes, eventID));
  }
  const userRecords = deaggregate(bytes, eventID);
  const records = new Array<KinesisStreamRecord>(userRecords.length);
  for (let i = 0; i < userRecords.length; i++) {
    const user = userRecords[i]!;
    const recordId = `${eventID}#${i}`;
    records[i] = new KinesisRecord(eventID, recordId, streamArn, user.partitionKey, user.explicitHashKey, sequenceNumber, i,
      position, awsRegion, raw, bytesPayload(user.data, recordId));
  }
  return records;
}

/** Drops what a record's processors decoded (see `KinesisRecord.release`); other objects are left alone. */
export function releaseKinesisRecord(record: KinesisStreamRecord): void {
  if (record instanceof KinesisRecord) record.release();
}

/** The cold path: the same checks one at a time, throwing the error that names the first failure. */
function rejectKinesisRecord(raw: unknown, position: number): never {
  const record = requireObject(raw, 'record', undefined, position);
  const eventID = requireString(record.eventID, 'eventID', undefined, position);
  const streamArn = requireString(record.eventSourceARN, 'eventSourceARN', eventID, position);
  if (streamNameFromArn(streamArn) === undefined) {
    throw recordError(ErrorCode.MissingField, eventID, position, `field eventSourceARN "${streamArn.slice(0, 200)}" is not a Kinesis stream ARN`);
  }
  if (shardIdFromEventId(eventID) === undefined) {
    throw recordError(ErrorCode.MissingField, eventID, position, 'field eventID does not have the form <shardId>:<sequenceNumber>');
  }
  const kinesis = requireObject(record.kinesis, 'kinesis', eventID, position);
  requireString(kinesis.partitionKey, 'kinesis.partitionKey', eventID, position);
  requireSequenceNumber(kinesis.sequenceNumber, 'kinesis.sequenceNumber', eventID, position);
  requireFiniteNumber(kinesis.approximateArrivalTimestamp, 'kinesis.approximateArrivalTimestamp', eventID, position);
  optionalString(record.awsRegion, 'awsRegion', eventID, position);
  const data = kinesis.data;
  if (typeof data !== 'string') throw missingField(eventID, position, 'kinesis.data', 'a base64 string', data);
  throw recordError(ErrorCode.InvalidBase64, eventID, position, `field kinesis.data (${data.length} characters) is not valid base64`);
}
