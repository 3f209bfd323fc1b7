/**
 * DynamoDB stream records as Lambda delivers them -> `DynamoDBStreamRecord`. Keys are checked eagerly (so bad
 * keys fail the record at once) and converted when read; images are checked and converted when read.
 */
import { checkItem, unmarshallItem } from './attribute-values';
import { ErrorCode, ShardflowError } from './errors';
import { RecordKind, RecordSource, StreamViewType, type DynamoDBStreamRecord, type Item, type Payload } from './model';
import { JsonValuePayload } from './payload';
import {
  RecordFields,
  isObject,
  isDynamoDBSequenceNumber,
  missingField,
  optionalString,
  recordError,
  requireFiniteNumber,
  requireObject,
  requireSequenceNumber,
  requireString,
  type RawObject,
} from './record-fields';

type DynamoDBKind = DynamoDBStreamRecord['kind'];

const KINDS: Readonly<Record<string, DynamoDBKind>> = {
  INSERT: RecordKind.Insert,
  MODIFY: RecordKind.Modify,
  REMOVE: RecordKind.Remove,
};

const VIEW_TYPES: ReadonlySet<string> = new Set<string>(Object.values(StreamViewType));

/** Whether records of this view type carry the new image. */
export function carriesNewImage(viewType: StreamViewType): boolean {
  return viewType === StreamViewType.NewImage || viewType === StreamViewType.NewAndOldImages;
}

/** Whether records of this view type carry the old image. */
export function carriesOldImage(viewType: StreamViewType): boolean {
  return viewType === StreamViewType.OldImage || viewType === StreamViewType.NewAndOldImages;
}

const NOT_CONVERTED: unique symbol = Symbol('not converted');

interface RawSection {
  readonly Keys: RawObject;
  readonly NewImage?: unknown;
  readonly OldImage?: unknown;
  readonly ApproximateCreationDateTime?: number;
  readonly SizeBytes?: number;
}

interface RawDynamoDBRecord {
  readonly userIdentity?: unknown;
  readonly dynamodb: RawSection;
}

/**
 * A record keeps only what it cannot cheaply derive again (see KinesisRecordBase): what follows from the raw
 * record checked at normalization is a getter; the partition key, keys, images and payload are computed on
 * first read and cached until `release()`.
 */
class DynamoDBRecord extends RecordFields implements DynamoDBStreamRecord {
  declare readonly kind: DynamoDBKind;
  declare readonly viewType: StreamViewType;
  // Caches: TypeScript-private fields assigned in the constructor, not `#private` fields (see CachedPayload).
  /** When the event has no ApproximateCreationDateTime: the time it was normalized. */
  declare private readonly createdFallback: number | undefined;
  declare private cachedKeys: Item | undefined;
  declare private cachedPartitionKey: string | undefined;
  declare private cachedPayload: JsonValuePayload | undefined;
  declare private cachedNewImage: Item | undefined | typeof NOT_CONVERTED;
  declare private cachedOldImage: Item | undefined | typeof NOT_CONVERTED;

  constructor(
    eventID: string,
    kind: DynamoDBKind,
    viewType: StreamViewType,
    sequenceNumber: string,
    position: number,
    createdFallback: number | undefined,
    raw: unknown,
  ) {
    super(eventID, sequenceNumber, position, raw);
    this.kind = kind;
    this.viewType = viewType;
    this.createdFallback = createdFallback;
    this.cachedKeys = undefined;
    this.cachedPartitionKey = undefined;
    this.cachedPayload = undefined;
    this.cachedNewImage = NOT_CONVERTED;
    this.cachedOldImage = NOT_CONVERTED;
  }

  get source(): typeof RecordSource.DynamoDB {
    return RecordSource.DynamoDB;
  }

  get shardId(): undefined {
    return undefined;
  }

  get subSequenceNumber(): undefined {
    return undefined;
  }

  get recordId(): string {
    return this.eventID;
  }

  get isTtlDelete(): boolean {
    return isTtlIdentity(this.rawRecord().userIdentity);
  }

  get sizeBytes(): number | undefined {
    return this.section().SizeBytes;
  }

  get tableName(): string {
    // Checked when the record was normalized.
    return tableNameFromStreamArn(this.streamArn) as string;
  }

  get arrivalTime(): number {
    const created = this.section().ApproximateCreationDateTime;
    return created === undefined ? (this.createdFallback as number) : Math.round(created * 1000);
  }

  get partitionKey(): string {
    this.cachedPartitionKey ??= canonicalKey(this.section().Keys);
    return this.cachedPartitionKey;
  }

  get keys(): Item {
    // Checked when the record was normalized: converting cannot fail.
    this.cachedKeys ??= unmarshallItem(this.section().Keys, 'keys', this.eventID);
    return this.cachedKeys;
  }

  get payload(): Payload {
    this.cachedPayload ??= new JsonValuePayload(this.section(), this.eventID);
    return this.cachedPayload;
  }

  get newImage(): Item | undefined {
    if (this.cachedNewImage === NOT_CONVERTED) {
      if (!carriesNewImage(this.viewType)) throw this.notInView('new');
      this.cachedNewImage = this.kind === RecordKind.Remove ? undefined : unmarshallItem(this.section().NewImage, 'newImage', this.eventID);
    }
    return this.cachedNewImage;
  }

  get oldImage(): Item | undefined {
    if (this.cachedOldImage === NOT_CONVERTED) {
      if (!carriesOldImage(this.viewType)) throw this.notInView('old');
      this.cachedOldImage = this.kind === RecordKind.Insert ? undefined : unmarshallItem(this.section().OldImage, 'oldImage', this.eventID);
    }
    return this.cachedOldImage;
  }

  /** Drops the converted keys, images and payload; a later read converts again from the raw record. */
  release(): void {
    this.cachedKeys = undefined;
    this.cachedPayload = undefined;
    this.cachedNewImage = NOT_CONVERTED;
    this.cachedOldImage = NOT_CONVERTED;
  }

  private rawRecord(): RawDynamoDBRecord {
    return this.raw as RawDynamoDBRecord;
  }

  private section(): RawSection {
    return (this.raw as RawDynamoDBRecord).dynamodb;
  }

  private notInView(which: 'new' | 'old'): ShardflowError {
    return new ShardflowError(
      ErrorCode.ImageNotInView,
      `Record ${this.eventID} has no ${which} image to read: the stream's view type ${this.viewType} ` +
        `does not carry ${which} images.`,
      { recordId: this.eventID },
    );
  }
}

/** Drops what a record's processors converted (see `DynamoDBRecord.release`); other objects are left alone. */
export function releaseDynamoDBRecord(record: DynamoDBStreamRecord): void {
  if (record instanceof DynamoDBRecord) record.release();
}

/**
 * The record's partition key for ordering and failure isolation: the JSON of its key attributes as
 * `[name, AttributeValue]` pairs sorted by name (UTF-16 code unit order), e.g. `[["Id",{"N":"101"}]]`.
 * Equal keys give equal strings whatever the attribute order. Numbers are compared as delivered: DynamoDB
 * sends key numbers in one canonical form, so "1" and "1.0" never both name the same item.
 */
export function canonicalKey(keys: RawObject): string {
  let name: string | undefined;
  let count = 0;
  for (const key in keys) {
    name = key;
    if (++count > 1) break;
  }
  if (count === 1) {
    const single = singleKey(name!, keys[name!]);
    if (single !== undefined) return single;
  }
  const names = Object.keys(keys).sort();
  const pairs = new Array<[string, unknown]>(names.length);
  for (let i = 0; i < names.length; i++) pairs[i] = [names[i]!, keys[names[i]!]];
  return JSON.stringify(pairs);
}

// Strings JSON writes as they are, between quotes.
const JSON_PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
// A table's records share the key attribute name: encode it once.
let lastKeyName: string | undefined;
let lastKeyNameJson = '';

/** The common single-attribute S/N/B key, spelled exactly as `JSON.stringify` spells the general form. */
function singleKey(name: string, value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  let tag: string | undefined;
  let tags = 0;
  for (const key in value) {
    tag = key;
    if (++tags > 1) return undefined;
  }
  if (tag !== 'S' && tag !== 'N' && tag !== 'B') return undefined;
  const scalar = value[tag];
  if (typeof scalar !== 'string') return undefined;
  if (name !== lastKeyName) {
    lastKeyNameJson = JSON.stringify(name);
    lastKeyName = name;
  }
  return `[[${lastKeyNameJson},{"${tag}":${JSON_PLAIN.test(scalar) ? `"${scalar}"` : JSON.stringify(scalar)}}]]`;
}

const TABLE_MARKER = ':table/';
const STREAM_MARKER = '/stream/';

/** `arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>` -> the table name. */
export function tableNameFromStreamArn(arn: string): string | undefined {
  // A batch comes from one stream: parse its ARN once.
  if (arn === lastArn) return lastTableName;
  const start = arn.indexOf(TABLE_MARKER);
  const end = start === -1 ? -1 : arn.indexOf(STREAM_MARKER, start);
  const name = end === -1 || !arn.startsWith('arn:') ? '' : arn.slice(start + TABLE_MARKER.length, end);
  lastArn = arn;
  lastTableName = name.length === 0 ? undefined : name;
  return lastTableName;
}

let lastArn: string | undefined;
let lastTableName: string | undefined;

function isTtlIdentity(identity: unknown): boolean {
  return isObject(identity) && identity.type === 'Service' && identity.principalId === 'dynamodb.amazonaws.com';
}

function hasKeys(object: RawObject): boolean {
  for (const _ in object) return true;
  return false;
}

/**
 * Normalizes one DynamoDB stream record. Throws a permanent `ShardflowError` naming the record when it cannot
 * be decoded; problems inside images surface when the image is read.
 */
export function normalizeDynamoDBRecord(raw: unknown, position: number): DynamoDBStreamRecord {
  // Hot path: every check inline; any failure goes to `rejectDynamoDBRecord`, which finds and names it.
  if (typeof raw !== 'object' || raw === null) return rejectDynamoDBRecord(raw, position);
  const record = raw as RawObject;
  const eventID = record.eventID;
  const eventName = record.eventName;
  const streamArn = record.eventSourceARN;
  const section = record.dynamodb;
  const region = record.awsRegion;
  const kind = typeof eventName === 'string' ? KINDS[eventName] : undefined;
  if (
    typeof eventID !== 'string' ||
    eventID.length === 0 ||
    kind === undefined ||
    typeof streamArn !== 'string' ||
    !isObject(section) ||
    (region !== undefined && region !== null && typeof region !== 'string')
  ) {
    return rejectDynamoDBRecord(raw, position);
  }
  const { SequenceNumber: sequenceNumber, ApproximateCreationDateTime: created, StreamViewType: viewType, SizeBytes: sizeBytes, Keys: rawKeys } = section;
  if (
    typeof sequenceNumber !== 'string' ||
    !isDynamoDBSequenceNumber(sequenceNumber) ||
    (created !== undefined && (typeof created !== 'number' || !Number.isFinite(created))) ||
    typeof viewType !== 'string' ||
    !VIEW_TYPES.has(viewType) ||
    (sizeBytes !== undefined && typeof sizeBytes !== 'number') ||
    !isObject(rawKeys) ||
    !hasKeys(rawKeys)
  ) {
    return rejectDynamoDBRecord(raw, position);
  }
  const view = viewType as StreamViewType;
  const tableName = tableNameFromStreamArn(streamArn);
  if (
    tableName === undefined ||
    // An image the view type and event promise must be there; its content is checked when it is read.
    (kind !== RecordKind.Remove && carriesNewImage(view) && !isObject(section.NewImage)) ||
    (kind !== RecordKind.Insert && carriesOldImage(view) && !isObject(section.OldImage))
  ) {
    return rejectDynamoDBRecord(raw, position);
  }
  // Bad keys fail the record here, like a bad field; converting them waits until something reads them.
  checkItem(rawKeys, 'keys', eventID);
  return new DynamoDBRecord(
    eventID,
    kind,
    view,
    sequenceNumber,
    position,
    // The Lambda guide's sample events have no ApproximateCreationDateTime; such a record counts as created now.
    created === undefined ? Date.now() : undefined,
    raw,
  );
}

/** The cold path: the same checks one at a time, throwing the error that names the first failure. */
function rejectDynamoDBRecord(raw: unknown, position: number): never {
  const record = requireObject(raw, 'record', undefined, position);
  const eventID = requireString(record.eventID, 'eventID', undefined, position);
  const eventName = record.eventName;
  if (typeof eventName !== 'string' || KINDS[eventName] === undefined) {
    throw missingField(eventID, position, 'eventName', 'INSERT, MODIFY or REMOVE', eventName);
  }
  const streamArn = requireString(record.eventSourceARN, 'eventSourceARN', eventID, position);
  optionalString(record.awsRegion, 'awsRegion', eventID, position);
  const section = requireObject(record.dynamodb, 'dynamodb', eventID, position);
  requireSequenceNumber(section.SequenceNumber, 'dynamodb.SequenceNumber', eventID, position, isDynamoDBSequenceNumber);
  if (section.ApproximateCreationDateTime !== undefined) {
    requireFiniteNumber(section.ApproximateCreationDateTime, 'dynamodb.ApproximateCreationDateTime', eventID, position);
  }
  const viewType = section.StreamViewType;
  if (typeof viewType !== 'string' || !VIEW_TYPES.has(viewType)) {
    throw missingField(eventID, position, 'dynamodb.StreamViewType', 'KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES', viewType);
  }
  if (section.SizeBytes !== undefined && typeof section.SizeBytes !== 'number') {
    throw missingField(eventID, position, 'dynamodb.SizeBytes', 'a number', section.SizeBytes);
  }
  const keys = requireObject(section.Keys, 'dynamodb.Keys', eventID, position);
  if (!hasKeys(keys)) throw recordError(ErrorCode.MissingField, eventID, position, 'field dynamodb.Keys has no key attributes');
  if (tableNameFromStreamArn(streamArn) === undefined) {
    throw recordError(ErrorCode.MissingField, eventID, position, `field eventSourceARN "${streamArn.slice(0, 200)}" is not a DynamoDB stream ARN`);
  }
  const view = viewType as StreamViewType;
  throw missingField(
    eventID,
    position,
    carriesNewImage(view) && eventName !== 'REMOVE' && !isObject(section.NewImage) ? 'dynamodb.NewImage' : 'dynamodb.OldImage',
    `an item (view type ${view}, event ${eventName})`,
    carriesNewImage(view) && eventName !== 'REMOVE' && !isObject(section.NewImage) ? section.NewImage : section.OldImage,
  );
}
