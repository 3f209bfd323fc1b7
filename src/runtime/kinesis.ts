/**
 * Kinesis records as Lambda delivers them -> `KinesisStreamRecord`s: strict base64, gzip, KPL deaggregation.
 */
import { ErrorCode } from './errors';
import { deaggregate, isKplAggregate } from './kpl';
import { RecordKind, RecordSource, type KinesisStreamRecord, type Payload } from './model';
import { bytesPayload, decodeBase64Strict } from './payload';
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

// Fields are `declare`d and assigned in the constructor: with ES2022 class fields, parameter properties and
// initializers would define each field twice per record.
class KinesisRecord implements KinesisStreamRecord {
  declare readonly source: typeof RecordSource.Kinesis;
  declare readonly kind: typeof RecordKind.KinesisRecord;
  declare readonly eventID: string;
  declare readonly recordId: string;
  declare readonly streamArn: string;
  declare readonly streamName: string;
  declare readonly shardId: string;
  declare readonly partitionKey: string;
  declare readonly explicitHashKey: string | undefined;
  declare readonly sequenceNumber: string;
  declare readonly subSequenceNumber: number | undefined;
  declare readonly aggregated: boolean;
  declare readonly position: number;
  declare readonly arrivalTime: number;
  declare readonly awsRegion: string | undefined;
  declare readonly raw: unknown;
  declare readonly payload: Payload;

  constructor(
    eventID: string,
    recordId: string,
    streamArn: string,
    streamName: string,
    shardId: string,
    partitionKey: string,
    explicitHashKey: string | undefined,
    sequenceNumber: string,
    subSequenceNumber: number | undefined,
    position: number,
    arrivalTime: number,
    awsRegion: string | undefined,
    raw: unknown,
    payload: Payload,
  ) {
    this.source = RecordSource.Kinesis;
    this.kind = RecordKind.KinesisRecord;
    this.eventID = eventID;
    this.recordId = recordId;
    this.streamArn = streamArn;
    this.streamName = streamName;
    this.shardId = shardId;
    this.partitionKey = partitionKey;
    this.explicitHashKey = explicitHashKey;
    this.sequenceNumber = sequenceNumber;
    this.subSequenceNumber = subSequenceNumber;
    this.aggregated = subSequenceNumber !== undefined;
    this.position = position;
    this.arrivalTime = arrivalTime;
    this.awsRegion = awsRegion;
    this.raw = raw;
    this.payload = payload;
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
  const at = eventID.indexOf(':');
  return at > 0 ? eventID.slice(0, at) : undefined;
}

/**
 * Normalizes one Kinesis record: one `KinesisStreamRecord`, or one per user record when the data is a KPL
 * aggregate (sharing the parent's sequence number, told apart by `subSequenceNumber`). Throws a permanent
 * `ShardflowError` naming the record when it cannot be decoded.
 */
export function normalizeKinesisRecord(raw: unknown, position: number): KinesisStreamRecord[] {
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
    typeof data !== 'string'
  ) {
    return rejectKinesisRecord(raw, position);
  }
  const streamName = streamNameFromArn(streamArn);
  const shardId = shardIdFromEventId(eventID);
  const bytes = decodeBase64Strict(data);
  if (streamName === undefined || shardId === undefined || bytes === undefined) return rejectKinesisRecord(raw, position);
  const awsRegion = region === null ? undefined : region;
  const arrivalTime = Math.round(approximateArrivalTimestamp * 1000);

  if (!isKplAggregate(bytes)) {
    return [
      new KinesisRecord(eventID, eventID, streamArn, streamName, shardId, partitionKey, undefined, sequenceNumber,
        undefined, position, arrivalTime, awsRegion, raw, bytesPayload(bytes, eventID)),
    ];
  }
  const userRecords = deaggregate(bytes, eventID);
  const records = new Array<KinesisStreamRecord>(userRecords.length);
  for (let i = 0; i < userRecords.length; i++) {
    const user = userRecords[i]!;
    const recordId = `${eventID}#${i}`;
    records[i] = new KinesisRecord(eventID, recordId, streamArn, streamName, shardId, user.partitionKey,
      user.explicitHashKey, sequenceNumber, i, position, arrivalTime, awsRegion, raw, bytesPayload(user.data, recordId));
  }
  return records;
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
