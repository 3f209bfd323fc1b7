/** The pipeline's options: the deadline margin, the policy for permanent failures, the logger. */
import type { ShardflowError } from './errors';
import { sharedLogger, type PipelineLogger } from './logging';
import type { Provenance, StreamRecord } from './model';
import { checkInteger, checkNumber, invalidOption, resolveOptions } from './options';
import { DEFAULT_INFLATION_BUDGET_BYTES } from './payload';

/** What to do with a record that failed permanently (a retry cannot help). */
export const PermanentErrorAction = {
  /** Keep the record, with its data, in the fault sink and let the rest of its partition key go on. */
  Capture: 'capture',
  /** Report it for retry: its shard stays blocked until the record expires or the code is fixed. */
  Retry: 'retry',
} as const;
export type PermanentErrorAction = (typeof PermanentErrorAction)[keyof typeof PermanentErrorAction];

/** The stage name of faults and failures raised while decoding a record. */
export const NORMALIZE_STAGE = 'normalize';

/** A permanent failure, as shown to an `onPermanentError` callback. */
export interface PermanentFailure {
  /** `normalize`, or the name of the processor or sink that rejected the record. */
  readonly stage: string;
  readonly error: ShardflowError;
  /** The normalized record; `undefined` when the record could not be decoded. */
  readonly record: StreamRecord | undefined;
  /** Where the record came from; partial when it could not be decoded. */
  readonly provenance: Partial<Provenance>;
  /** Position of the (parent) record in the batch, from 0. */
  readonly position: number;
  /** The record as Lambda delivered it. */
  readonly raw: unknown;
}

export type PermanentErrorPolicy = PermanentErrorAction | ((failure: PermanentFailure) => PermanentErrorAction);

export interface PipelineOptions {
  /**
   * Stop starting records when the Lambda context reports less than this many milliseconds left; the records
   * not started are reported for retry. The margin is the time kept for sinks and fault capture.
   * Without a context (local runs) there is no deadline.
   * @default 1000
   * @example { deadlineMarginMs: 5000 } // for sinks that write large batches
   */
  readonly deadlineMarginMs?: number;
  /**
   * What to do with a record that failed permanently (undecodable data, a validation error, a sink refusing it):
   * `'capture'` keeps it in the fault sink, `'retry'` reports it for retry. A callback decides per failure.
   * Records without a usable sequence number can only be captured, and without a fault sink every permanent
   * failure is reported for retry.
   * @default 'capture'
   * @example { onPermanentError: (f) => (f.stage === 'normalize' ? 'capture' : 'retry') }
   */
  readonly onPermanentError?: PermanentErrorPolicy;
  /**
   * What the gzip payloads of one batch may inflate to in total. Payloads inflate when read and are dropped once
   * their record's processors are done; the record whose payload would go beyond the budget is captured as an
   * `INFLATION_BUDGET_EXCEEDED` fault, so a batch of gzip bombs cannot take the function's memory. One payload
   * inflates to at most 64 MiB whatever the budget. Raise it with the function's memory.
   * @default 134217728 (128 MiB: a 6 MB batch of gzip bombs stays within a 384 MB heap)
   * @example { inflationBudgetBytes: 512 * 1024 * 1024 } // for a function with 2 GB
   */
  readonly inflationBudgetBytes?: number;
  /**
   * Where per-record failures are logged. A Powertools `Logger` fits; give the handler the same one.
   * @default the logger of the handler that runs the pipeline (`createHandler` lends it), else the shared JSON
   * logger of `defaultLogger()` (service from POWERTOOLS_SERVICE_NAME)
   * @example { logger: new Logger({ serviceName: 'checkout' }) }
   */
  readonly logger?: PipelineLogger;
}

/** The options with their defaults, checked. */
export type ResolvedPipelineOptions = Required<PipelineOptions>;

const COMPONENT = 'definePipeline';

const DEFAULT_OPTIONS = {
  deadlineMarginMs: 1000,
  onPermanentError: PermanentErrorAction.Capture,
  inflationBudgetBytes: DEFAULT_INFLATION_BUDGET_BYTES,
  logger: sharedLogger,
} satisfies ResolvedPipelineOptions;

// Typed as a record of PipelineLogger's keys, so the compiler keeps this list and the interface in step.
const LOGGER_METHODS = Object.keys({ debug: true, info: true, warn: true, error: true } satisfies Record<keyof PipelineLogger, true>);

export function resolvePipelineOptions(options: PipelineOptions | undefined): ResolvedPipelineOptions {
  const resolved: ResolvedPipelineOptions = resolveOptions(COMPONENT, options, DEFAULT_OPTIONS);
  checkNumber(COMPONENT, 'deadlineMarginMs', resolved.deadlineMarginMs, 0, 'milliseconds');
  checkInteger(COMPONENT, 'inflationBudgetBytes', resolved.inflationBudgetBytes, 0);
  const policy: unknown = resolved.onPermanentError;
  if (policy !== PermanentErrorAction.Capture && policy !== PermanentErrorAction.Retry && typeof policy !== 'function') {
    throw invalidOption(COMPONENT, 'onPermanentError', `"capture", "retry" or a function`, policy);
  }
  const logger: unknown = resolved.logger;
  if (
    logger === null ||
    typeof logger !== 'object' ||
    !LOGGER_METHODS.every((method) => typeof (logger as Record<string, unknown>)[method] === 'function')
  ) {
    throw invalidOption(COMPONENT, 'logger', `an object with the methods ${LOGGER_METHODS.join(', ')}`, logger);
  }
  return resolved;
}
