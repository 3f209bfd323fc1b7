/**
 * Errors carry a fixed code, a full-sentence message and whether a retry can help.
 * The batch loop decides "report for retry" or "capture as a fault" from `retryable`, never from message text.
 */

export const ErrorCode = {
  /** Kinesis `data` is not valid base64. */
  InvalidBase64: 'INVALID_BASE64',
  /** The payload starts with the gzip magic bytes but does not inflate. */
  InvalidGzip: 'INVALID_GZIP',
  /**
   * The record's gzip payload would take the batch beyond its inflation budget (`inflationBudgetBytes`): the
   * record that crosses it is captured, so a batch of gzip bombs cannot take the function's memory.
   */
  InflationBudgetExceeded: 'INFLATION_BUDGET_EXCEEDED',
  /** The payload starts with the KPL magic bytes but the aggregate is truncated or malformed. */
  InvalidKplAggregate: 'INVALID_KPL_AGGREGATE',
  /** The KPL aggregate's trailing MD5 does not match its protobuf bytes. */
  KplChecksumMismatch: 'KPL_CHECKSUM_MISMATCH',
  /** The payload is not valid UTF-8 where text was asked for. */
  InvalidUtf8: 'INVALID_UTF8',
  /** The payload is not JSON where JSON was asked for. */
  InvalidJson: 'INVALID_JSON',
  /** The record's `eventSource` is neither `aws:kinesis` nor `aws:dynamodb`. */
  UnknownEventSource: 'UNKNOWN_EVENT_SOURCE',
  /** A field the platform contract requires is missing or has the wrong type. */
  MissingField: 'MISSING_FIELD',
  /** A DynamoDB AttributeValue has no known type tag (S, N, B, SS, NS, BS, M, L, NULL, BOOL). */
  UnknownAttributeType: 'UNKNOWN_ATTRIBUTE_TYPE',
  /** A DynamoDB AttributeValue is structurally impossible (e.g. nested deeper than DynamoDB's 32 levels). */
  InvalidAttributeValue: 'INVALID_ATTRIBUTE_VALUE',
  /**
   * A number cannot be held exactly: a DynamoDB number DynamoDB cannot hold (more than 38 significant digits, bad
   * syntax), or a JSON number a double cannot hold (`2.9999999999999999`, `9007199254740993`, `1e400`).
   */
  InvalidNumber: 'INVALID_NUMBER',
  /** A processor asked for an image that the stream's view type does not carry. */
  ImageNotInView: 'IMAGE_NOT_IN_VIEW',
  /** The record is well formed but its content breaks a processor's rules. */
  Validation: 'VALIDATION',
  /** A sink could not apply effects for a reason a retry can fix (throttling, conflicts, 5xx). */
  SinkTransient: 'SINK_TRANSIENT',
  /** A sink refused effects for a reason no retry can fix (validation, missing table, access). */
  SinkPermanent: 'SINK_PERMANENT',
  /**
   * A processor threw something that is not a ShardflowError, or returned something other than effects.
   * Processors are pure, so it would fail the same way on every delivery: the record is captured as a fault.
   */
  ProcessorFailed: 'PROCESSOR_FAILED',
  /** A value nests deeper than shardflow renders (`MAX_RENDERED_DEPTH` levels), e.g. a JSON payload to log. */
  NestingTooDeep: 'NESTING_TOO_DEEP',
  /** Something other than a processor threw an error that is not a ShardflowError (a sink, a bug); retryable. */
  Unexpected: 'UNEXPECTED',
  /** Options given to a shardflow constructor are invalid. */
  InvalidOptions: 'INVALID_OPTIONS',
  /** A processor produced an effect that no configured sink accepts (a wiring mistake; the record is kept). */
  NoSinkForEffect: 'NO_SINK_FOR_EFFECT',
  /**
   * A sink or the fault sink cannot reach what it writes to, for a reason of the deployment rather than the
   * records: a missing table, a missing permission, an unknown endpoint, invalid credentials. Retryable: the whole
   * batch fails (no record becomes a fault) until the deployment is fixed.
   */
  DeploymentError: 'DEPLOYMENT_ERROR',
  /** Faults could not be captured (no fault sink, or it failed); the records are retried instead. */
  FaultCaptureFailed: 'FAULT_CAPTURE_FAILED',
  /** An optional package a feature needs is not installed (the message names it and how to install it). */
  MissingDependency: 'MISSING_DEPENDENCY',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes that describe the record itself: retrying the same bytes cannot help. */
const PERMANENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.InvalidBase64,
  ErrorCode.InvalidGzip,
  ErrorCode.InflationBudgetExceeded,
  ErrorCode.InvalidKplAggregate,
  ErrorCode.KplChecksumMismatch,
  ErrorCode.InvalidUtf8,
  ErrorCode.InvalidJson,
  ErrorCode.UnknownEventSource,
  ErrorCode.MissingField,
  ErrorCode.UnknownAttributeType,
  ErrorCode.InvalidAttributeValue,
  ErrorCode.InvalidNumber,
  ErrorCode.ImageNotInView,
  ErrorCode.ProcessorFailed,
  ErrorCode.NestingTooDeep,
  ErrorCode.Validation,
  ErrorCode.SinkPermanent,
  ErrorCode.InvalidOptions,
  ErrorCode.NoSinkForEffect,
  ErrorCode.MissingDependency,
]);

export interface ShardflowErrorOptions {
  /** The record the error is about, as `eventID` (plus `#subSequence` for KPL sub-records). */
  readonly recordId?: string;
  readonly cause?: unknown;
}

export class ShardflowError extends Error {
  readonly code: ErrorCode;
  /** Whether delivering the same record again can succeed. */
  readonly retryable: boolean;
  readonly recordId: string | undefined;

  constructor(code: ErrorCode, message: string, options: ShardflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ShardflowError';
    this.code = code;
    this.retryable = !PERMANENT_CODES.has(code);
    this.recordId = options.recordId;
  }
}

export function isShardflowError(error: unknown): error is ShardflowError {
  return error instanceof ShardflowError;
}

/** A record whose bytes or shape cannot be decoded. Never retryable. */
export function decodeError(
  code: ErrorCode,
  recordId: string,
  reason: string,
  cause?: unknown,
): ShardflowError {
  return new ShardflowError(code, `Record ${recordId} cannot be decoded: ${reason}.`, { recordId, cause });
}

/** A processor rejects a well-formed record. Never retryable. */
export class ValidationError extends ShardflowError {
  constructor(message: string, options: ShardflowErrorOptions = {}) {
    super(ErrorCode.Validation, message, options);
    this.name = 'ValidationError';
  }
}

/** One issue a schema found, located in the record: `{ path: ['payload', 'items', 0, 'sku'], message: 'Required' }`. */
export interface SchemaIssue {
  /** The part of the record the schema read (`payload`, `newImage`, `oldImage` or `keys`), then the issue's own path. */
  readonly path: readonly PropertyKey[];
  /** The schema library's message. */
  readonly message: string;
}

/**
 * A record that does not match the schema its processor declares: a `VALIDATION` error, so the record is captured
 * as a fault with its data. The message names the record, the processor and each issue (`payload.total: Expected
 * number, received string`); `issues` holds them as data.
 */
export class SchemaValidationError extends ValidationError {
  /** The issues, in the schema's order: at most 100 (the message counts them all). */
  readonly issues: readonly SchemaIssue[];

  constructor(message: string, issues: readonly SchemaIssue[], options: ShardflowErrorOptions = {}) {
    super(message, options);
    this.name = 'SchemaValidationError';
    this.issues = issues;
  }
}

/** A failure that another delivery can fix (throttling, a dependency that is down). */
export class RetryableError extends ShardflowError {
  constructor(message: string, options: ShardflowErrorOptions = {}) {
    super(ErrorCode.SinkTransient, message, options);
    this.name = 'RetryableError';
  }
}

/**
 * Whether an arbitrary thrown value is worth a retry. Unknown errors are retried: losing a record is worse. (The
 * batch loop judges what a processor throws apart: processors are pure, so only a retryable ShardflowError is.)
 */
export function isRetryable(error: unknown): boolean {
  return isShardflowError(error) ? error.retryable : true;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
