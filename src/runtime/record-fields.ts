/**
 * Reading required fields of raw Lambda records, with errors that name the record (or its batch position when
 * even the eventID is unusable) and the field.
 */
import { ErrorCode, ShardflowError, decodeError } from './errors';

export type RawObject = Readonly<Record<string, unknown>>;

export function isObject(value: unknown): value is RawObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A decoding error about the record `eventID`, or about the record at `position` when it has no usable eventID. */
export function recordError(code: ErrorCode, eventID: string | undefined, position: number, reason: string): ShardflowError {
  if (eventID !== undefined) return decodeError(code, eventID, reason);
  return new ShardflowError(code, `Record at batch position ${position} cannot be decoded: ${reason}.`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'is missing';
  if (value === null) return 'is null';
  return `is ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}`;
}

export function missingField(
  eventID: string | undefined,
  position: number,
  path: string,
  expected: string,
  value: unknown,
): ShardflowError {
  return recordError(ErrorCode.MissingField, eventID, position, `field ${path} ${describe(value)}, expected ${expected}`);
}

/** A non-empty string field. */
export function requireString(
  value: unknown,
  path: string,
  eventID: string | undefined,
  position: number,
): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw missingField(eventID, position, path, 'a non-empty string', value === '' ? undefined : value);
  }
  return value;
}

export function requireObject(value: unknown, path: string, eventID: string | undefined, position: number): RawObject {
  if (!isObject(value)) throw missingField(eventID, position, path, 'an object', value);
  return value;
}

export function requireFiniteNumber(value: unknown, path: string, eventID: string | undefined, position: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw missingField(eventID, position, path, 'a number', value);
  return value;
}

export function optionalString(value: unknown, path: string, eventID: string | undefined, position: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw missingField(eventID, position, path, 'a string', value);
  return value;
}

// Kinesis' documented pattern `0|([1-9]\d{0,128})`, with the length checked apart (measured faster than a
// counted repetition or a character loop).
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

export function isSequenceNumber(value: string): boolean {
  return value.length <= 129 && DECIMAL.test(value);
}

// DynamoDB Streams documents 21 to 40 characters and no pattern; DynamoDB Local zero-pads to 21 digits
// ("000000000000000000973") and the Lambda guide's samples are short ("111"), so any 1 to 40 digits. The length
// is checked apart here too: `^[0-9]{1,40}$` costs twice as much.
const DIGITS = /^[0-9]+$/;

export function isDynamoDBSequenceNumber(value: string): boolean {
  return value.length <= 40 && DIGITS.test(value);
}

export function requireSequenceNumber(
  value: unknown,
  path: string,
  eventID: string | undefined,
  position: number,
  valid: (value: string) => boolean = isSequenceNumber,
): string {
  if (typeof value !== 'string') throw missingField(eventID, position, path, 'a decimal sequence number', value);
  if (!valid(value)) {
    throw recordError(
      ErrorCode.MissingField,
      eventID,
      position,
      `field ${path} is ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}, ` +
        `which is not a decimal sequence number of ${valid === isSequenceNumber ? '1 to 129 digits without leading zeros' : '1 to 40 digits'}`,
    );
  }
  return value;
}

/** The fields of a raw record that every event source has, checked when the record was normalized. */
interface RawEventRecord {
  readonly eventSourceARN: string;
  readonly awsRegion?: string | null;
}

/** The getters over its raw record that every normalized record shares. */
export abstract class RawRecordGetters {
  abstract readonly raw: unknown;

  get streamArn(): string {
    return (this.raw as RawEventRecord).eventSourceARN;
  }

  get awsRegion(): string | undefined {
    return (this.raw as RawEventRecord).awsRegion ?? undefined;
  }
}

/**
 * What a normalized record keeps, except a KPL user record (which reads its parent's). Fields are `declare`d and
 * assigned in the constructor: with ES2022 class fields, initializers would define each field twice per record.
 */
export abstract class RecordFields extends RawRecordGetters {
  declare readonly eventID: string;
  declare readonly sequenceNumber: string;
  declare readonly position: number;
  declare readonly raw: unknown;

  constructor(eventID: string, sequenceNumber: string, position: number, raw: unknown) {
    super();
    this.eventID = eventID;
    this.sequenceNumber = sequenceNumber;
    this.position = position;
    this.raw = raw;
  }
}
