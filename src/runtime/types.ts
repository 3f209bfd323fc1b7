/**
 * Contracts between the runtime, processors and sinks.
 * Processors are pure: records in, effects out. Sinks apply effects; the batch loop connects them.
 */
import type { NumberValue } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBStreamEvent, KinesisStreamEvent } from 'aws-lambda';
import type { PartialBatchResponse, Provenance, RecordKind, RecordSource, StreamRecord } from './model';
import type { RecordSchema, RecordValue, SchemaRecord } from './record-schema';

/** What Lambda delivers from a Kinesis or DynamoDB Streams event source mapping. */
export type StreamEvent = KinesisStreamEvent | DynamoDBStreamEvent;

/** A Lambda handler for Kinesis or DynamoDB stream events with partial batch responses. */
export type StreamHandler = (event: StreamEvent, context: Context) => Promise<PartialBatchResponse>;

/** Something a processor wants changed, with the provenance of the record that asked for it. */
export interface EffectBase {
  readonly type: string;
  readonly provenance: Provenance;
}

/**
 * An exact number to add, in the runtime's number types (what images and payloads read as): a `number` stands
 * for its shortest decimal representation (`0.1` is one tenth), a `bigint` for an integer beyond the safe range,
 * a `NumberValue` for a decimal a double cannot hold. Sinks sum amounts as exact decimals.
 */
export type Amount = number | bigint | NumberValue;

/**
 * Add numbers to attributes of one item (missing attributes start from 0). Negative values subtract.
 * Additive effects commute, so a sink can pre-aggregate them per target key.
 */
export interface AddEffect extends EffectBase {
  readonly type: 'add';
  readonly table: string;
  /** The target item's primary key. */
  readonly key: Readonly<Record<string, string | number>>;
  /** Attribute name to the amount added, exact (see `Amount`). */
  readonly add: Readonly<Record<string, Amount>>;
}

export const LogLevel = { Debug: 'DEBUG', Info: 'INFO', Warn: 'WARN' } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** A structured log line about a record. */
export interface LogEffect extends EffectBase {
  readonly type: 'log';
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export type Effect = AddEffect | LogEffect;

/** Which records a processor wants. Every given field must match; an empty selector matches everything. */
export interface Selector {
  readonly sources?: readonly RecordSource[];
  /** Kinesis stream names or DynamoDB table names (parsed from the record's ARN). */
  readonly streams?: readonly string[];
  readonly kinds?: readonly RecordKind[];
  readonly where?: (record: StreamRecord) => boolean;
}

export interface ProcessContext {
  /** Remaining time of the invocation in milliseconds (Infinity outside Lambda). */
  remainingTimeMs(): number;
}

/**
 * A pure function of one normalized record to effects. It must not call AWS: that is what sinks are for, and
 * what makes processors property-testable.
 *
 * Because it is pure, a processor that fails on a record fails the same way on every delivery, so a failure is
 * permanent: the record is captured as a fault, with its data, and the rest of its partition key goes on. That
 * holds for a `ValidationError`, for the decoding errors of the record's payload and images, and for any error
 * that is not a `ShardflowError` (a TypeError, a stack overflow), which becomes `PROCESSOR_FAILED`. Throw a
 * `RetryableError` (a `ShardflowError` whose `retryable` is true) only for a failure a later delivery can get
 * past: the record is then reported for retry and blocks the later records of its partition key.
 */
export interface Processor<E extends EffectBase = Effect> {
  readonly name: string;
  readonly select: Selector;
  /** A processor without a schema reads the record itself (see `SchemaProcessor` for one that declares what it reads). */
  readonly schema?: undefined;
  process(record: StreamRecord, context: ProcessContext): readonly E[] | Promise<readonly E[]>;
}

/**
 * Which records a processor with a schema wants. The schema fixes the source (a payload schema reads Kinesis
 * records, an image or keys schema DynamoDB records), so `where` gets records of that source, and of the `kinds`
 * given; `sources`, if given, must name that source only.
 */
export interface SchemaSelector<S extends RecordSchema, K extends RecordKind = RecordKind> {
  /**
   * The schema's source, if given at all: the schema decides it.
   * @default the source the schema reads
   */
  readonly sources?: readonly SchemaRecord<S, K>['source'][];
  /**
   * Kinesis stream names or DynamoDB table names (parsed from the record's ARN).
   * @default every stream or table of the source
   * @example ['Carts']
   */
  readonly streams?: readonly string[];
  /**
   * Kinds of record. For a DynamoDB schema, leaving out REMOVE makes the new image always present in the value's
   * type, and leaving out INSERT the old image.
   * @default every kind of the source
   * @example ['insert', 'modify']
   */
  readonly kinds?: readonly K[];
  /**
   * Asked per record after the fields above and before validation, so a record it refuses is never validated.
   * @default none: every record the fields above admit
   */
  where?(record: SchemaRecord<S, K>): boolean;
}

/**
 * A processor that declares what it reads (`schema`: a Kinesis payload, or DynamoDB images and keys, as Standard
 * Schemas from zod, valibot, arktype, ...). The pipeline validates each record it selects before `process` runs,
 * once per record and schema however many processors share the schema, and passes the output next to the record,
 * typed from the schemas. A record that does not match is a permanent `SchemaValidationError` (`VALIDATION`) of the
 * processor: it is captured as a fault with its data and every issue's path and message. Otherwise it is a
 * `Processor`: pure, and every error it throws permanent but a `RetryableError`. Make one with `defineProcessor`.
 */
export interface SchemaProcessor<S extends RecordSchema = RecordSchema, E extends EffectBase = Effect, K extends RecordKind = RecordKind> {
  /** The processor's name, in faults, logs and metrics; unique in a pipeline. */
  readonly name: string;
  /** Which records it wants, within the source its schema reads. */
  readonly select: SchemaSelector<S, K>;
  /**
   * What it reads: `{ payload }` of a Kinesis record, or any of `{ newImage, oldImage, keys }` of a DynamoDB record.
   * @example { payload: z.object({ customer: z.string(), total: z.number() }) }
   */
  readonly schema: S;
  /** Effects of one record, given the record and the schema's output for it (`{ payload }`, `{ newImage, ... }`). */
  process(record: SchemaRecord<S, K>, value: RecordValue<S, K>, context: ProcessContext): readonly E[] | Promise<readonly E[]>;
}

/** A processor with or without a schema: what pipelines and apps take. */
export type AnyProcessor<E extends EffectBase = Effect> = Processor<E> | SchemaProcessor<RecordSchema, E>;

/** The effects one record produced for one sink, in batch order. */
export interface RecordEffects<E extends EffectBase = Effect> {
  readonly record: StreamRecord;
  readonly effects: readonly E[];
}

export interface RecordFailure {
  /** `StreamRecord.recordId` of the record whose effects were not applied. */
  readonly recordId: string;
  readonly error: unknown;
}

/**
 * What a sink did for one `apply` or `flush`, as counts. The handler publishes them with the batch metrics
 * (`SinkRequests`, `SinkConsumedWriteCapacity`, ...), summed over the batch's sinks; a sink reports those it knows.
 */
export interface SinkCounts {
  /** Requests sent, retries included. */
  readonly requests?: number;
  /** Write capacity units consumed. */
  readonly consumedWriteCapacity?: number;
  /** Records skipped because an earlier delivery had applied them. */
  readonly duplicatesSkipped?: number;
  /** Of those, records whose effects differed from what was applied under their id (same eventID, other content). */
  readonly conflictingDuplicates?: number;
  /** Requests re-sent after throttling, conflicts, 5xx or lost responses. */
  readonly retries?: number;
  /** Records whose effects could not be applied. */
  readonly recordsFailed?: number;
}

export interface SinkResult {
  /** Records whose effects were not applied. Everything else given to `apply` (or a session) is applied. */
  readonly failed: readonly RecordFailure[];
  /** What the sink did, for metrics. */
  readonly counts?: SinkCounts;
}

/**
 * One batch of a sink's work, fed record by record as records finish. It lets a sink fold effects into what it
 * will write (sums per target item, say) and drop them, so the batch does not keep every effect alive until
 * the end. Make it a class instance: closures made per batch cost the batch loop re-optimization in V8.
 */
export interface SinkSession<E extends EffectBase = Effect> {
  /**
   * Stages one record's effects: called in batch order, once per record, right after the record's processors
   * succeeded, with what `apply` would have received for it. Must not write anything: a session that is never
   * flushed (the invocation failed) must leave no trace. Throwing fails every record given to the session, as
   * a throwing `apply` does.
   */
  add(record: StreamRecord, effects: readonly E[]): void;
  /** Applies what was staged and reports failures as `apply` does. Called once, after the last `add`. */
  flush(): Promise<SinkResult>;
  /**
   * Optional, for a sink with `stopAtFirstFailure`: called after the last `add` and before `flush` with the faults
   * of decoding and processing the batch loop is about to capture, so a sink that keeps a checkpoint can remember
   * that it passes them unapplied (a later delivery or a redrive may apply them). Faults of redriven records are
   * left out: no checkpoint passes them now. Throwing fails the whole batch: nothing is written and no fault is
   * captured. A session is opened for it if no record reached the sink.
   */
  beforeFaults?(faults: readonly Fault[]): Promise<void>;
}

/**
 * Applies effects. A sink must be idempotent: applying the same record's effects twice (a re-delivery, a retry
 * from the middle of a batch, a lost response) must leave the state of applying them once.
 */
export interface Sink<E extends EffectBase = Effect> {
  readonly name: string;
  accepts(effect: EffectBase): effect is E;
  apply(batch: readonly RecordEffects<E>[]): Promise<SinkResult>;
  /**
   * Optional: opens a session for one batch (on the batch's first record for this sink). The outcome must be the
   * one `apply` gives for the session's records. Sinks without it get their batch through `apply`.
   */
  open?(): SinkSession<E>;
  /**
   * Whether the sink needs each shard's records applied in order without holes, as one that keeps a checkpoint per
   * shard does. The batch loop then stops at the first record it reports for retry and reports every record after
   * it (Lambda re-delivers from there anyway) instead of letting other partition keys go on, and keeps faults before
   * the sinks write: a fault that cannot be kept then fails the whole batch.
   * @default false
   */
  readonly stopAtFirstFailure?: boolean;
}

/** A record that could not be processed and is kept, with its data, instead of blocking the shard. */
export interface Fault {
  readonly recordId: string;
  /** Partial when the record was too malformed to tell (e.g. a missing sequence number). */
  readonly provenance: Partial<Provenance>;
  readonly position: number;
  readonly error: { readonly code: string; readonly message: string; readonly retryable: boolean };
  /** Which processor or sink rejected it; `normalize` when the record could not be decoded. */
  readonly stage: string;
  /**
   * The record exactly as Lambda delivered it, data included. A KPL user record is kept on its own: the parent
   * record (every identifier as delivered) whose `kinesis.data` is an aggregate of that one user record, with
   * `kinesis.subSequenceNumber` naming it, so it decodes and redrives as that user record.
   */
  readonly raw: unknown;
  /** Epoch milliseconds. */
  readonly capturedAt: number;
}

export interface FaultSink {
  readonly name: string;
  capture(faults: readonly Fault[]): Promise<void>;
}
