/**
 * What a processor reads, declared as Standard Schemas (zod, valibot, arktype, ...) and validated before it runs:
 * a Kinesis record's JSON payload, or a DynamoDB record's new image, old image and keys. A schema sees what the
 * event model gives everyone: payload JSON whose numbers are exact (`payload.json()` refuses the others), images
 * with `bigint` and `NumberValue` where a double would round. A record that does not match is a permanent
 * `SchemaValidationError` of that processor, so it is captured with its data.
 */
import { ErrorCode, SchemaValidationError, ShardflowError, type SchemaIssue } from './errors';
import {
  RecordKind,
  RecordSource,
  type DynamoDBStreamRecord,
  type KinesisStreamRecord,
  type StreamRecord,
} from './model';
import { shown } from './options';
import type { InferSchemaOutput, StandardSchemaResult, StandardSchemaV1 } from './standard-schema';

/**
 * A Kinesis processor's schema: its payload, as the JSON `payload.json()` returns (after base64, gzip and KPL
 * de-aggregation; a number a double cannot hold is refused with `INVALID_NUMBER`, never rounded).
 * @example { payload: z.object({ customer: z.string(), total: z.number() }) }
 */
export interface KinesisRecordSchema {
  /** The schema of the payload's JSON. */
  readonly payload: StandardSchemaV1;
  /** A payload schema reads no image. */
  readonly newImage?: never;
  /** A payload schema reads no image. */
  readonly oldImage?: never;
  /** A payload schema reads no keys. */
  readonly keys?: never;
}

/**
 * A DynamoDB processor's schema: any of the record's images and its keys, unmarshalled by the event model (numbers
 * a double cannot hold are `bigint` or `NumberValue`, sets are `Set`, binaries `Uint8Array`). An image the event
 * does not have (the new image of a REMOVE, the old image of an INSERT) is not validated and reads as `undefined`;
 * one the stream's view type does not carry fails the record with `IMAGE_NOT_IN_VIEW`.
 * @example { newImage: Cart, oldImage: Cart }
 */
export interface DynamoDBRecordSchema {
  /** An image or keys schema reads no payload. */
  readonly payload?: never;
  /** The schema of the item after the change (INSERT, MODIFY). */
  readonly newImage?: StandardSchemaV1;
  /** The schema of the item before the change (MODIFY, REMOVE). */
  readonly oldImage?: StandardSchemaV1;
  /** The schema of the item's primary key attributes (every change has them). */
  readonly keys?: StandardSchemaV1;
}

/** What a processor reads: a Kinesis payload, or DynamoDB images and keys (at least one). */
export type RecordSchema = KinesisRecordSchema | DynamoDBRecordSchema;

/** The kinds of record a schema `S` can read: `kinesis-record` for a payload schema, `insert`, `modify` and `remove` otherwise. */
export type SchemaRecordKind<S extends RecordSchema> = SchemaRecord<S>['kind'];

/** The records a processor with schema `S` gets: Kinesis records for a payload schema, else DynamoDB records of kinds `K`. */
export type SchemaRecord<S extends RecordSchema, K extends RecordKind = RecordKind> = S extends KinesisRecordSchema
  ? KinesisStreamRecord
  : DynamoDBStreamRecord & { readonly kind: K };

/**
 * What `process` gets next to the record: an object with the schema's keys, each the output of its schema.
 * `{ payload: Order }` gives `{ payload: z.output<typeof Order> }`; `{ newImage: Cart, keys: CartKey }` gives
 * `{ newImage: Cart | undefined, keys: CartKey }`: an image is `undefined` for the kind of record that has none (the
 * new image of a REMOVE, the old image of an INSERT), so `undefined` goes away when the selector's `kinds` leave
 * that kind out.
 */
export type RecordValue<S extends RecordSchema, K extends RecordKind = RecordKind> = S extends KinesisRecordSchema
  ? { readonly payload: InferSchemaOutput<S['payload']> }
  : {
      // Mapped over a Pick of the schema, so a part the schema type leaves optional stays optional (the wide RecordValue<RecordSchema>).
      readonly [Part in keyof Pick<S, keyof S & ('newImage' | 'oldImage' | 'keys')>]:
        | (Exclude<S[Part], undefined> extends infer Schema extends StandardSchemaV1 ? InferSchemaOutput<Schema> : never)
        | (Part extends 'newImage' ? (typeof RecordKind.Remove extends K ? undefined : never) : never)
        | (Part extends 'oldImage' ? (typeof RecordKind.Insert extends K ? undefined : never) : never);
    };

type PartName = RecordSchemaPart['name'];

const DYNAMODB_PARTS: readonly PartName[] = ['newImage', 'oldImage', 'keys'];

/** One part of a record a schema reads, and its schema. */
export interface RecordSchemaPart {
  /** The part: a key of `RecordSchema`. */
  readonly name: 'payload' | 'newImage' | 'oldImage' | 'keys';
  /** Its schema, as the processor declared it. */
  readonly schema: StandardSchemaV1;
}

/** A processor's schema as the router checked it: the processor, the source it reads, and its parts in a fixed order. */
export interface CompiledRecordSchema {
  /** The processor's name, for errors. */
  readonly processor: string;
  /** The only source of the records the processor gets. */
  readonly source: RecordSource;
  /** The parts the schema reads: `payload`, or `newImage`, `oldImage` and `keys` in that order (those given). */
  readonly parts: readonly RecordSchemaPart[];
}

function invalidSchema(processor: string, reason: string): ShardflowError {
  return new ShardflowError(ErrorCode.InvalidOptions, `Processor "${processor}" has an invalid schema: ${reason}.`);
}

function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  // arktype's types are functions; zod's and valibot's schemas are objects.
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const props: unknown = (value as { '~standard'?: unknown })['~standard'];
  return typeof props === 'object' && props !== null && (props as { version?: unknown }).version === 1 && typeof (props as { validate?: unknown }).validate === 'function';
}

/**
 * Checks a processor's `schema` once, when the processor is defined or compiled into a router: `payload` alone, or
 * one or more of `newImage`, `oldImage` and `keys`, each a Standard Schema. Throws `INVALID_OPTIONS` naming the
 * processor and the problem.
 */
export function compileRecordSchema(processor: string, schema: unknown): CompiledRecordSchema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw invalidSchema(processor, 'schema must be an object');
  const known: readonly string[] = ['payload', ...DYNAMODB_PARTS];
  for (const key of Object.keys(schema)) {
    if (!known.includes(key)) throw invalidSchema(processor, `unknown field "${key}" (known: ${known.join(', ')})`);
  }
  const fields = schema as Readonly<Record<PartName, unknown>>;
  const named = (name: PartName): boolean => fields[name] !== undefined;
  if (named('payload') && DYNAMODB_PARTS.some(named)) {
    throw invalidSchema(processor, 'it reads either a Kinesis payload or DynamoDB images and keys, not both');
  }
  const names = named('payload') ? (['payload'] as const) : DYNAMODB_PARTS.filter(named);
  if (names.length === 0) throw invalidSchema(processor, 'it names no part to read (payload, newImage, oldImage or keys)');
  const parts = names.map((name) => {
    const part = fields[name];
    if (!isStandardSchema(part)) {
      throw invalidSchema(processor, `${name} is not a Standard Schema (a zod, valibot or arktype schema): it has no "~standard" with version 1 and validate()`);
    }
    return { name, schema: part };
  });
  return { processor, source: named('payload') ? RecordSource.Kinesis : RecordSource.DynamoDB, parts };
}

/** The record kinds a record read by a schema of this source can have. */
export function kindsOf(source: RecordSource): readonly RecordKind[] {
  return source === RecordSource.Kinesis ? [RecordKind.KinesisRecord] : [RecordKind.Insert, RecordKind.Modify, RecordKind.Remove];
}

/** An image the event does not have: not validated, `undefined` in the value. */
const ABSENT: StandardSchemaResult<undefined> = { value: undefined };

type Validation = StandardSchemaResult<unknown> | Promise<StandardSchemaResult<unknown>>;

function isPromise(value: Validation): value is Promise<StandardSchemaResult<unknown>> {
  return typeof (value as { then?: unknown }).then === 'function';
}

/** What a part of the record holds (the router admits only records of the schema's source). */
function partOf(record: StreamRecord, name: PartName): unknown {
  switch (name) {
    case 'payload':
      return (record as KinesisStreamRecord).payload.json();
    case 'newImage':
      return (record as DynamoDBStreamRecord).newImage;
    case 'oldImage':
      return (record as DynamoDBStreamRecord).oldImage;
    default:
      return (record as DynamoDBStreamRecord).keys;
  }
}

/**
 * Validates records against processors' schemas, once per record, part and schema object: processors that share a
 * schema (the same `Order` object for their payload) share its result. Results are kept for the record in hand
 * only: the next record's overwrite them, so a batch keeps the values of one record at most. Sync schemas give
 * values synchronously; only a schema whose `validate` returns a promise makes the value a promise.
 */
export class RecordValidation {
  private record: StreamRecord | undefined = undefined;
  /** How many results the record in hand has: the first `count` entries of the arrays below. */
  private count = 0;
  private readonly names: PartName[] = [];
  private readonly schemas: StandardSchemaV1[] = [];
  private readonly results: Validation[] = [];

  /**
   * The record's value for a processor's schema (see `RecordValue`), or a promise of it. Throws (or rejects with)
   * a `SchemaValidationError` listing every part's issues, or the decoding error of a part (`INVALID_JSON`,
   * `IMAGE_NOT_IN_VIEW`, ...).
   */
  read(compiled: CompiledRecordSchema, record: StreamRecord): RecordValue<RecordSchema> | Promise<RecordValue<RecordSchema>> {
    if (record !== this.record) {
      this.record = record;
      this.count = 0;
    }
    const parts = compiled.parts;
    if (parts.length === 1) {
      // The common case: no arrays, and a value object of one fixed shape per part.
      const result = this.validate(record, parts[0]);
      if (isPromise(result)) return Promise.resolve(result).then((settled) => onePart(compiled, record, settled));
      return onePart(compiled, record, result);
    }
    const results = parts.map((part) => this.validate(record, part));
    if (results.some(isPromise)) return Promise.all(results).then((settled) => valueOf(compiled, record, settled));
    return valueOf(compiled, record, results as StandardSchemaResult<unknown>[]);
  }

  private validate(record: StreamRecord, part: RecordSchemaPart): Validation {
    for (let i = 0; i < this.count; i++) {
      if (this.schemas[i] === part.schema && this.names[i] === part.name) return this.results[i];
    }
    const input = partOf(record, part.name);
    const result = input === undefined && part.name !== 'payload' ? ABSENT : part.schema['~standard'].validate(input);
    const i = this.count++;
    this.names[i] = part.name;
    this.schemas[i] = part.schema;
    this.results[i] = result;
    return result;
  }
}

/** The value of a schema of one part, or its `SchemaValidationError`. */
function onePart(compiled: CompiledRecordSchema, record: StreamRecord, result: StandardSchemaResult<unknown>): RecordValue<RecordSchema> {
  if (result.issues) return valueOf(compiled, record, [result]);
  switch (compiled.parts[0].name) {
    case 'payload':
      return { payload: result.value };
    case 'newImage':
      return { newImage: result.value };
    case 'oldImage':
      return { oldImage: result.value };
    default:
      return { keys: result.value };
  }
}

/**
 * The value object of a record whose parts validated as `results` (in `compiled.parts` order), or the
 * `SchemaValidationError` of every issue they have.
 */
function valueOf(compiled: CompiledRecordSchema, record: StreamRecord, results: readonly StandardSchemaResult<unknown>[]): RecordValue<RecordSchema> {
  const value: Record<string, unknown> = {};
  let issues: SchemaIssue[] | undefined;
  let issueCount = 0;
  for (let i = 0; i < results.length; i++) {
    const name = compiled.parts[i].name;
    const result = results[i];
    if (!result.issues) {
      value[name] = result.value;
      continue;
    }
    // A failure with no issues still fails: the spec makes any `issues` array a failure.
    const found = result.issues.length === 0 ? [{ message: 'the schema rejected it without saying why' }] : result.issues;
    issueCount += found.length;
    issues ??= [];
    for (let j = 0; j < found.length && issues.length < MAX_KEPT_ISSUES; j++) {
      const path: PropertyKey[] = [name];
      for (const segment of found[j].path ?? []) path.push(typeof segment === 'object' && segment !== null ? segment.key : segment);
      issues.push({ path, message: String(found[j].message) });
    }
  }
  // The value has the schema's parts, each the output of its schema: what RecordValue says of that schema.
  if (issues === undefined) return value as RecordValue<RecordSchema>;
  throw new SchemaValidationError(validationMessage(compiled.processor, record, issues, issueCount), issues, { recordId: record.recordId });
}

/** A schema may find thousands of issues in a large record; a fault shows the first few and keeps a bounded list. */
const MAX_KEPT_ISSUES = 100;
const MAX_SHOWN_ISSUES = 10;
const MAX_SHOWN_SEGMENTS = 16;
const MAX_MESSAGE_LENGTH = 300;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `payload.items[0].sku`, `newImage["unit price"]`: short, and never longer than `MAX_SHOWN_SEGMENTS` segments. */
export function issuePath(path: readonly PropertyKey[]): string {
  let text = '';
  for (let i = 0; i < path.length && i < MAX_SHOWN_SEGMENTS; i++) {
    const segment = path[i];
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'symbol') text += `[${String(segment)}]`;
    else if (IDENTIFIER.test(segment)) text += i === 0 ? segment : `.${segment}`;
    else text += `[${shown(segment)}]`;
  }
  return path.length > MAX_SHOWN_SEGMENTS ? `${text}…` : text;
}

function validationMessage(processor: string, record: StreamRecord, issues: readonly SchemaIssue[], issueCount: number): string {
  const origin = record.source === RecordSource.Kinesis ? `Kinesis stream ${record.streamName}` : `table ${record.tableName}`;
  const shown = issues.slice(0, MAX_SHOWN_ISSUES).map(({ path, message }) => {
    // Cut by code points: a cut inside a surrogate pair would keep half a character.
    const cut = message.length > MAX_MESSAGE_LENGTH ? `${Array.from(message).slice(0, MAX_MESSAGE_LENGTH - 1).join('')}…` : message;
    return `${issuePath(path)}: ${cut.replace(/\.$/, '')}`;
  });
  const more = issueCount > shown.length ? `; and ${issueCount - shown.length} more` : '';
  return `Record ${record.recordId} from ${origin} does not match the schema of processor "${processor}": ${shown.join('; ')}${more}.`;
}
