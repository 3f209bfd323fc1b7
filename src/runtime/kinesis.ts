/**
 * Kinesis records as Lambda delivers them -> `KinesisStreamRecord`s: strict base64, gzip, KPL deaggregation.
 */
import { ErrorCode } from './errors';
import { MAGIC as KPL_MAGIC, isKplAggregate, parseAggregate, type KplAggregate } from './kpl';
import { aggregate } from './kpl-writer';
import { RecordKind, RecordSource, type KinesisStreamRecord, type Payload } from './model';
import {
  BinaryPayload,
  GZIP_MAGIC_0,
  UNLIMITED_INFLATION,
  bytesPayload,
  decodeBase64Binary,
  type CachedPayload,
  type InflationBudget,
} from './payload';
import {
  RawRecordGetters,
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

interface RawKinesisRecord {
  readonly kinesis: { readonly data: string; readonly approximateArrivalTimestamp: number };
}

/**
 * A KPL user record on its own, as a fault keeps it (`userRecordRaw`): the parent record with its data replaced
 * by an aggregate of that one user record, and this field saying which user record of the parent it was.
 */
const SUB_SEQUENCE_FIELD = 'subSequenceNumber';

/**
 * A record keeps only what it cannot cheaply derive again: a sink's `apply` batch keeps every record alive until
 * the sinks ran, so each field costs memory the garbage collector has to copy. Constants, and what follows from
 * the raw record checked at normalization (stream ARN and name, shard id, region, arrival time), are getters.
 */
abstract class KinesisRecordBase extends RawRecordGetters implements KinesisStreamRecord {
  abstract readonly eventID: string;
  abstract readonly sequenceNumber: string;
  abstract readonly position: number;
  abstract readonly partitionKey: string;
  abstract readonly recordId: string;
  abstract readonly explicitHashKey: string | undefined;
  abstract readonly subSequenceNumber: number | undefined;
  /** Made on first read; undefined again after `release()` when it can be decoded again from the raw record. */
  declare protected cachedPayload: CachedPayload | undefined;

  constructor(payload: CachedPayload | undefined) {
    super();
    this.cachedPayload = payload;
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
    return Math.round(this.rawRecord().kinesis.approximateArrivalTimestamp * 1000);
  }

  get payload(): Payload {
    this.cachedPayload ??= this.decodePayload();
    return this.cachedPayload;
  }

  /** The payload when it is read for the first time, or again after `release()` dropped it. */
  protected abstract decodePayload(): CachedPayload;

  /**
   * Drops what the record's processors decoded. A payload that is not gzip goes (made again from the raw record's
   * base64 data, or from a KPL user record's bytes, if it is read later); a gzip payload drops its inflated bytes,
   * text and JSON but stays, remembering that its batch's inflation budget admitted it.
   */
  release(): void {
    const payload = this.cachedPayload;
    if (payload === undefined) return;
    if (payload.gzipped) payload.release();
    else this.cachedPayload = undefined;
  }

  protected rawRecord(): RawKinesisRecord {
    return this.raw as RawKinesisRecord;
  }
}

/** A record that is not a KPL aggregate: its id is its eventID. */
class KinesisRecord extends KinesisRecordBase {
  declare readonly eventID: string;
  declare readonly sequenceNumber: string;
  declare readonly position: number;
  declare readonly raw: unknown;
  declare readonly partitionKey: string;

  constructor(eventID: string, partitionKey: string, sequenceNumber: string, position: number, raw: unknown, payload: CachedPayload) {
    super(payload);
    this.eventID = eventID;
    this.sequenceNumber = sequenceNumber;
    this.position = position;
    this.raw = raw;
    this.partitionKey = partitionKey;
  }

  get recordId(): string {
    return this.eventID;
  }

  get explicitHashKey(): undefined {
    return undefined;
  }

  get subSequenceNumber(): undefined {
    return undefined;
  }

  protected decodePayload(): CachedPayload {
    // Only a plain record's payload is ever dropped (a gzip one is made at decoding and kept): it is the raw data,
    // already checked as base64.
    return new BinaryPayload(atob(this.rawRecord().kinesis.data), this.recordId);
  }
}

/** What the user records of one aggregate share: the record Lambda delivered them in, and the aggregate. */
class KplParent {
  constructor(
    readonly eventID: string,
    readonly sequenceNumber: string,
    readonly position: number,
    readonly raw: unknown,
    readonly budget: InflationBudget,
    readonly aggregate: KplAggregate,
    /** The sub-sequence number of the aggregate's first user record: 0, unless it holds one user record on its own. */
    readonly firstSubSequenceNumber: number,
  ) {}
}

/**
 * One user record of a KPL aggregate: its parent and its index in the aggregate, and the payload once read. Its
 * fields are read from these when asked for (the partition key decoded again each time), so a batch keeping a
 * thousand user records until its sinks ran keeps three fields of each. The payload is made (and inflated, for
 * gzip data) only when read, so an aggregate of a thousand gzip records holds one inflated payload at a time.
 */
class KplSubRecord extends KinesisRecordBase {
  declare private readonly parent: KplParent;
  declare private readonly index: number;

  constructor(parent: KplParent, index: number) {
    super(undefined);
    this.parent = parent;
    this.index = index;
  }

  get eventID(): string {
    return this.parent.eventID;
  }

  get sequenceNumber(): string {
    return this.parent.sequenceNumber;
  }

  get position(): number {
    return this.parent.position;
  }

  get raw(): unknown {
    return this.parent.raw;
  }

  get partitionKey(): string {
    return this.parent.aggregate.partitionKey(this.index);
  }

  get explicitHashKey(): string | undefined {
    return this.parent.aggregate.explicitHashKey(this.index);
  }

  get subSequenceNumber(): number {
    return this.parent.firstSubSequenceNumber + this.index;
  }

  /** The user record's data: a view into the aggregate's bytes. */
  get data(): Uint8Array {
    return this.parent.aggregate.data(this.index);
  }

  get recordId(): string {
    return `${this.eventID}#${this.subSequenceNumber}`;
  }

  protected decodePayload(): CachedPayload {
    return bytesPayload(this.data, this.recordId, this.parent.budget);
  }
}

const STREAM_MARKER = ':stream/';

/**
 * `arn:aws:kinesis:<region>:<account>:stream/<name>`; an enhanced fan-out consumer ARN continues with
 * `/consumer/...`. Undefined when the ARN names no stream.
 */
function streamNameFromArn(arn: string): string | undefined {
  // A batch comes from one stream: parse its ARN once.
  if (arn === lastArn) {
    // Each record brings its own copy of the ARN: keeping the latest makes the record's next read (the router's)
    // a comparison of references rather than of characters.
    lastArn = arn;
    return lastStreamName;
  }
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
  // `lastIndexOf` from 0 compares the prefix only, and costs about half of what `startsWith` does in Node 20.
  if (eventID.charCodeAt(last.length) === COLON && eventID.lastIndexOf(last, 0) === 0) return last;
  const at = eventID.indexOf(':');
  if (at <= 0) return undefined;
  lastShardId = eventID.slice(0, at);
  return lastShardId;
}

const COLON = 58;
// Never empty, so an eventID starting with ':' cannot match it.
let lastShardId = 'shardId-000000000000';

/**
 * Normalizes one Kinesis record: the record itself, or one per user record when the data is a KPL aggregate
 * (sharing the parent's sequence number, told apart by `subSequenceNumber`). Throws a permanent `ShardflowError`
 * naming the record when it cannot be decoded. Gzip payloads inflate when read, within `budget`.
 */
export function decodeKinesisRecord(
  raw: unknown,
  position: number,
  budget: InflationBudget = UNLIMITED_INFLATION,
): KinesisStreamRecord | KinesisStreamRecord[] {
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
  const { partitionKey, sequenceNumber, data, approximateArrivalTimestamp, [SUB_SEQUENCE_FIELD]: subSequenceNumber } = kinesis as RawObject;
  if (
    typeof partitionKey !== 'string' ||
    partitionKey.length === 0 ||
    typeof sequenceNumber !== 'string' ||
    !isSequenceNumber(sequenceNumber) ||
    typeof approximateArrivalTimestamp !== 'number' ||
    !Number.isFinite(approximateArrivalTimestamp) ||
    typeof data !== 'string' ||
    streamNameFromArn(streamArn) === undefined ||
    // What `shardIdFromEventId` needs, without making the shard id (the getter does, when it is read).
    eventID.indexOf(':') <= 0 ||
    (subSequenceNumber !== undefined && !isSubSequenceNumber(subSequenceNumber))
  ) {
    return rejectKinesisRecord(raw, position);
  }
  const binary = decodeBase64Binary(data);
  if (binary === undefined) return rejectKinesisRecord(raw, position);
  if (subSequenceNumber !== undefined) return decodeUserRecordAlone(raw, eventID, sequenceNumber, binary, subSequenceNumber as number, position, budget);
  // Neither a KPL aggregate nor gzip can start otherwise: a plain payload needs no bytes.
  const first = binary.charCodeAt(0);
  if (first !== KPL_MAGIC[0] && first !== GZIP_MAGIC_0) return new KinesisRecord(eventID, partitionKey, sequenceNumber, position, raw, new BinaryPayload(binary, eventID));
  const bytes = Buffer.from(binary, 'latin1');
  if (!isKplAggregate(bytes)) return new KinesisRecord(eventID, partitionKey, sequenceNumber, position, raw, bytesPayload(bytes, eventID, budget));
  const parent = new KplParent(eventID, sequenceNumber, position, raw, budget, parseAggregate(bytes, eventID), 0);
  const records = new Array<KinesisStreamRecord>(parent.aggregate.count);
  for (let i = 0; i < records.length; i++) records[i] = new KplSubRecord(parent, i);
  return records;
}

function isSubSequenceNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A KPL user record on its own (see `userRecordRaw`): its data is an aggregate of exactly that user record. */
function decodeUserRecordAlone(
  raw: unknown,
  eventID: string,
  sequenceNumber: string,
  binary: string,
  subSequenceNumber: number,
  position: number,
  budget: InflationBudget,
): KinesisStreamRecord[] {
  const bytes = Buffer.from(binary, 'latin1');
  const reason = `its kinesis.${SUB_SEQUENCE_FIELD} says it is one KPL user record, so its data must be a KPL aggregate of exactly one`;
  if (!isKplAggregate(bytes)) throw recordError(ErrorCode.InvalidKplAggregate, eventID, position, reason);
  const aggregate = parseAggregate(bytes, eventID);
  if (aggregate.count !== 1) throw recordError(ErrorCode.InvalidKplAggregate, eventID, position, `${reason}, not ${aggregate.count}`);
  return [new KplSubRecord(new KplParent(eventID, sequenceNumber, position, raw, budget, aggregate, subSequenceNumber), 0)];
}

/**
 * What a fault keeps of a record: the raw record, except for a KPL user record, which is kept on its own, so
 * that a thousand failing user records of a 1 MB aggregate keep 1 MB, not a thousand copies of it. That is the
 * parent record (every identifier as delivered) with `kinesis.data` replaced by an aggregate of the one user record
 * (its partition key, explicit hash key and data, gzip or not, as produced) and `kinesis.subSequenceNumber`
 * naming it; it decodes (and redrives) as that user record, `recordId` included.
 */
export function userRecordRaw(record: KinesisStreamRecord): unknown {
  if (!(record instanceof KplSubRecord)) return record.raw;
  const parent = record.raw as RawObject & { kinesis: RawObject };
  const data = aggregate([
    { partitionKey: record.partitionKey, ...(record.explicitHashKey === undefined ? {} : { explicitHashKey: record.explicitHashKey }), data: record.data },
  ]);
  return {
    ...parent,
    kinesis: { ...parent.kinesis, data: Buffer.from(data).toString('base64'), [SUB_SEQUENCE_FIELD]: record.subSequenceNumber },
  };
}

/** Drops what a record's processors decoded (see `KinesisRecord.release`); other objects are left alone. */
export function releaseKinesisRecord(record: KinesisStreamRecord): void {
  if (record instanceof KinesisRecordBase) record.release();
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
  const subSequenceNumber = kinesis[SUB_SEQUENCE_FIELD];
  if (subSequenceNumber !== undefined && !isSubSequenceNumber(subSequenceNumber)) {
    throw missingField(eventID, position, `kinesis.${SUB_SEQUENCE_FIELD}`, 'a KPL sub-sequence number (an integer >= 0)', subSequenceNumber);
  }
  const data = kinesis.data;
  if (typeof data !== 'string') throw missingField(eventID, position, 'kinesis.data', 'a base64 string', data);
  throw recordError(ErrorCode.InvalidBase64, eventID, position, `field kinesis.data (${data.length} characters) is not valid base64`);
}
