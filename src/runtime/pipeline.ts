/**
 * The batch loop: normalize -> route -> process -> apply through sinks -> capture faults -> partial batch
 * response. Every delivered record ends as exactly one of: applied (or unrouted, i.e. acknowledged), reported
 * for retry (failed, or skipped behind a failed record with the same partition key, or not started before the
 * deadline), or captured as a fault. Nothing is dropped: when a fault cannot be captured it is reported for
 * retry, and when it cannot be reported either (no usable sequence number) the whole batch fails.
 * See docs/decisions/batch-loop.md for why this is our own loop rather than Powertools' per-record loop.
 */
import type { Context } from 'aws-lambda';
import { ErrorCode, ShardflowError, errorMessage, isRetryable, isShardflowError } from './errors';
import { provenanceOf, type BatchItemFailure, type PartialBatchResponse, type Provenance, type StreamRecord } from './model';
import { sharedLogger } from './logging';
import { decodeRecord, normalizeFailure, normalizeRecord, rawSequenceNumber, releaseRecord } from './normalize';
import { rejectUnknownKeys, unknownOption, withDefaults } from './options';
import { compileRouter, type Route } from './router';
import type {
  Effect,
  EffectBase,
  Fault,
  FaultSink,
  ProcessContext,
  Processor,
  RecordEffects,
  RecordFailure,
  Sink,
  StreamEvent,
} from './types';

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

/** The logging the pipeline needs; a Powertools `Logger` fits. */
export interface PipelineLogger {
  debug(message: string, attributes: Record<string, unknown>): void;
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

// Typed as a record of PipelineLogger's keys, so the compiler keeps this list and the interface in step.
const LOGGER_METHODS = Object.keys({ debug: true, info: true, warn: true, error: true } satisfies Record<keyof PipelineLogger, true>);

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
   * Where per-record failures are logged. A Powertools `Logger` fits; give the handler the same one.
   * @default the shared Powertools logger of `defaultLogger()` (service from POWERTOOLS_SERVICE_NAME)
   * @example { logger: new Logger({ serviceName: 'scores' }) }
   */
  readonly logger?: PipelineLogger;
}

export interface PipelineConfig<E extends EffectBase = Effect> {
  readonly processors: readonly Processor<E>[];
  readonly sinks: readonly Sink<E>[];
  /** Where permanently failing records are kept. Without one, they are reported for retry. */
  readonly faultSink?: FaultSink;
  readonly options?: PipelineOptions;
}

/** Counts of one batch. Every record is counted once in exactly one of the outcome counts. */
export interface BatchStats {
  /** Records Lambda delivered. */
  readonly recordsIn: number;
  /**
   * Records the outcome counts add up to: one per KPL user record of each decoded aggregate, one per record
   * otherwise. `processed + unrouted + failed + skipped + deadlineSkipped + faulted === records`.
   */
  readonly records: number;
  /** Processed by at least one processor, all effects applied. */
  readonly processed: number;
  /** Wanted by no processor: acknowledged without effects. */
  readonly unrouted: number;
  /** Failed (retryably, or permanently under the retry policy) and reported for retry. */
  readonly failed: number;
  /** Reported for retry because an earlier record with the same partition key failed. */
  readonly skipped: number;
  /** Not started because the deadline was reached; reported for retry. */
  readonly deadlineSkipped: number;
  /** Captured in the fault sink. */
  readonly faulted: number;
  /** Effects handed to sinks. */
  readonly effects: number;
  /** Identifiers in the response (distinct sequence numbers). */
  readonly batchItemFailures: number;
  readonly durationMs: number;
}

export interface BatchOutcome {
  readonly response: PartialBatchResponse;
  readonly stats: BatchStats;
  /** Faults captured in this batch. */
  readonly faults: readonly Fault[];
}

export interface Pipeline {
  /**
   * Runs one delivered batch. Record failures never throw; a thrown error means the whole batch must be retried
   * (a bug, an event that is not a stream event, or a fault that could be neither captured nor reported).
   */
  run(event: StreamEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<BatchOutcome>;
}

type ResolvedOptions = Required<PipelineOptions>;

const DEFAULT_OPTIONS: ResolvedOptions = {
  deadlineMarginMs: 1000,
  onPermanentError: PermanentErrorAction.Capture,
  logger: sharedLogger,
};

function invalidMessage(reason: string): string {
  return `Invalid pipeline configuration: ${reason}.`;
}

function invalidOptions(reason: string): ShardflowError {
  return new ShardflowError(ErrorCode.InvalidOptions, invalidMessage(reason));
}

function resolveOptions(options: PipelineOptions | undefined): ResolvedOptions {
  if (options === undefined) return DEFAULT_OPTIONS;
  if (options === null || typeof options !== 'object') throw invalidOptions('options must be an object');
  rejectUnknownKeys(options, Object.keys(DEFAULT_OPTIONS), (key, known) => invalidMessage(unknownOption(key, known)));
  const resolved = withDefaults(DEFAULT_OPTIONS, options);
  const margin = resolved.deadlineMarginMs;
  if (typeof margin !== 'number' || !Number.isFinite(margin) || margin < 0) {
    throw invalidOptions(`deadlineMarginMs must be a finite number of milliseconds >= 0, got ${String(margin)}`);
  }
  const policy: unknown = resolved.onPermanentError;
  if (policy !== PermanentErrorAction.Capture && policy !== PermanentErrorAction.Retry && typeof policy !== 'function') {
    throw invalidOptions(`onPermanentError must be 'capture', 'retry' or a function, got ${String(policy)}`);
  }
  const logger: unknown = resolved.logger;
  if (
    logger === null ||
    typeof logger !== 'object' ||
    !LOGGER_METHODS.every((method) => typeof (logger as Record<string, unknown>)[method] === 'function')
  ) {
    throw invalidOptions(`logger must have the methods ${LOGGER_METHODS.join(', ')}`);
  }
  return resolved;
}

function errorSummary(error: unknown): Fault['error'] {
  return isShardflowError(error)
    ? { code: error.code, message: error.message, retryable: error.retryable }
    : { code: ErrorCode.Unexpected, message: errorMessage(error), retryable: true };
}

// Final states of records that ran through processors (kept per record for the sink stage).
const APPLIED = 0;
const FAILED = 1;
const SKIPPED = 2;
const FAULTED = 3;

/** A record headed for the fault sink, or reported for retry if capture is impossible. */
interface PendingFault {
  readonly fault: Fault;
  readonly sequenceNumber: string | undefined;
  /** Partition key, `undefined` when unknown (the record could not be decoded). */
  readonly partitionKey: string | undefined;
  /** Index into `ran` when the record ran through processors, -1 otherwise. */
  readonly ranIndex: number;
  /** Records at `ran` indices from here on come later in the batch. */
  readonly cursor: number;
}

/** A failure whose later same-key records already ran and must be reported too. */
interface LateBlock {
  readonly partitionKey: string | undefined;
  readonly cursor: number;
}

const EMPTY_FAILURES: { readonly failed: readonly RecordFailure[] } = { failed: [] };

/**
 * Builds a pipeline. Options, processors' selectors and sinks are validated here, once, with errors that name
 * the offending option; `run` does no configuration checks.
 */
export function definePipeline<E extends EffectBase = Effect>(config: PipelineConfig<E>): Pipeline {
  if (config === null || typeof config !== 'object') throw invalidOptions('the configuration must be an object');
  rejectUnknownKeys(config, ['processors', 'sinks', 'faultSink', 'options'], (key, known) =>
    invalidMessage(`unknown configuration key "${key}" (known: ${known.join(', ')})`),
  );
  if (!Array.isArray(config.processors)) throw invalidOptions('processors must be an array');
  if (!Array.isArray(config.sinks)) throw invalidOptions('sinks must be an array');
  const sinkNames = new Set<string>();
  for (const sink of config.sinks) {
    if (sink === null || typeof sink !== 'object' || typeof sink.apply !== 'function' || typeof sink.accepts !== 'function') {
      throw invalidOptions('every sink needs accepts() and apply()');
    }
    if (typeof sink.name !== 'string' || sink.name.length === 0) throw invalidOptions('every sink needs a non-empty name');
    if (sinkNames.has(sink.name)) throw invalidOptions(`two sinks are named "${sink.name}"`);
    sinkNames.add(sink.name);
  }
  const faultSink = config.faultSink;
  if (faultSink !== undefined && (faultSink === null || typeof faultSink.capture !== 'function')) {
    throw invalidOptions('faultSink needs a capture() method');
  }
  const options = resolveOptions(config.options);
  const router = compileRouter(config.processors);
  const sinks = config.sinks;
  const { deadlineMarginMs, onPermanentError, logger } = options;

  /**
   * Capture or retry, for a permanent error on a record that can be reported (has a sequence number): fixed here
   * when it cannot depend on the failure, so no PermanentFailure is built per failure, else the user's callback.
   * Without a fault sink there is nowhere to keep the record: only a retry keeps it.
   */
  const permanentAction: PermanentErrorAction | ((failure: PermanentFailure) => PermanentErrorAction) =
    faultSink === undefined
      ? PermanentErrorAction.Retry
      : typeof onPermanentError === 'string'
        ? onPermanentError
        : (failure) => {
            const action = onPermanentError(failure);
            if (action !== PermanentErrorAction.Capture && action !== PermanentErrorAction.Retry) {
              throw invalidOptions(`onPermanentError returned ${String(action)} for record at position ${failure.position}; expected 'capture' or 'retry'`);
            }
            return action;
          };

  return {
    async run(event, context) {
      const started = performance.now();
      const rawRecords: unknown = (event as { Records?: unknown } | null)?.Records;
      if (!Array.isArray(rawRecords)) {
        throw new ShardflowError(ErrorCode.MissingField, 'The event has no Records array, so it is not a Kinesis or DynamoDB stream event.');
      }
      const n = rawRecords.length;
      const remaining =
        context !== undefined && typeof context.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
      const processContext: ProcessContext = { remainingTimeMs: remaining ?? (() => Infinity) };

      // Reported sequence numbers by raw position, so the response comes out in batch order.
      // Created on the first report: most batches report nothing.
      let reportedAt: (string | undefined)[] | undefined;
      const report = (position: number, sequenceNumber: string): void => {
        reportedAt ??= new Array<string | undefined>(n);
        reportedAt[position] = sequenceNumber;
      };

      // Records that ran through processors successfully, in batch order, and their state.
      const ran: StreamRecord[] = [];
      // States of `ran` records, created when the sink stage first changes one (APPLIED until then).
      let ranStates: Uint8Array | undefined;
      const ranState = (): Uint8Array => (ranStates ??= new Uint8Array(ran.length));
      const sinkBatches: RecordEffects<E>[][] = sinks.map(() => []);
      const pending: PendingFault[] = [];
      const lateBlocks: LateBlock[] = [];

      // Partition keys blocked for the rest of the batch by a retryable failure.
      const blocked = new Set<string>();
      let blockAll = false; // a record of unknown partition key was reported: everything after it waits
      let deadlineReached = false;
      let records = 0;
      let unrouted = 0;
      let failed = 0;
      let skipped = 0;
      let deadlineSkipped = 0;
      let effectsOut = 0;

      const pastDeadline = (): boolean => {
        if (!deadlineReached && remaining !== undefined && remaining() < deadlineMarginMs) deadlineReached = true;
        return deadlineReached;
      };

      /** A record failed in processing: block its key (or everything, when the key is unknown). */
      const blockAfter = (partitionKey: string | undefined): void => {
        if (partitionKey === undefined) blockAll = true;
        else blocked.add(partitionKey);
      };

      /**
       * A record (or a whole raw record that could not be decoded, when `record` is undefined) failed before
       * reaching sinks: report it and block its key, or keep it for the fault sink.
       */
      const onFailure = (
        error: unknown,
        stage: string,
        record: StreamRecord | undefined,
        provenance: Partial<Provenance>,
        raw: unknown,
        position: number,
        partitionKey: string | undefined,
      ): void => {
        // Decoding checked provenance.sequenceNumber with the check of its event source, so it is usable as it is.
        const sequenceNumber = record !== undefined ? record.sequenceNumber : provenance.sequenceNumber;
        const recordId = record?.recordId ?? provenance.eventID ?? `at position ${position}`;
        let action: PermanentErrorAction;
        if (isRetryable(error)) action = PermanentErrorAction.Retry;
        else if (sequenceNumber === undefined) action = PermanentErrorAction.Capture;
        else if (typeof permanentAction === 'string') action = permanentAction;
        else action = permanentAction({ stage, error: error as ShardflowError, record, provenance, position, raw });
        const summary = errorSummary(error);
        // Even a retryable failure can only be kept as a fault when the record cannot be named in the response.
        if (action === PermanentErrorAction.Retry && sequenceNumber !== undefined) {
          failed++;
          report(position, sequenceNumber);
          blockAfter(partitionKey);
          logger.warn('Record reported for retry', { recordId, stage, position, sequenceNumber, partitionKey, error: summary });
          return;
        }
        pending.push({
          fault: { recordId, provenance, position, error: summary, stage, raw, capturedAt: 0 },
          sequenceNumber,
          partitionKey,
          ranIndex: -1,
          cursor: ran.length,
        });
      };

      // State of the record in flight. Records run one at a time, so plain variables do, and the sync path
      // allocates nothing per record beyond what it hands to sinks.
      let only: readonly E[] | undefined; // single-sink fast path: the record's effects for sinks[0]
      let perSink: (E[] | undefined)[] | undefined;
      let routed = false;
      let stage = '';

      const collect = (record: StreamRecord, effects: readonly E[]): void => {
        if (effects.length === 0) return;
        if (sinks.length === 1) {
          const sink = sinks[0];
          for (let i = 0; i < effects.length; i++) {
            if (!sink.accepts(effects[i])) throw noSink(effects[i], stage, record, sinks);
          }
          only = only === undefined ? effects : only.concat(effects);
          return;
        }
        perSink ??= new Array<E[] | undefined>(sinks.length);
        routeEffects(effects, sinks, perSink, stage, record);
      };

      const failRecord = (record: StreamRecord, error: unknown): void => {
        releaseRecord(record);
        onFailure(error, stage, record, provenanceOf(record), record.raw, record.position, record.partitionKey);
      };

      const finish = (record: StreamRecord): void => {
        // The record stays alive until the sinks ran; what its processors decoded need not.
        releaseRecord(record);
        if (!routed) {
          unrouted++;
          return;
        }
        ran.push(record);
        if (only !== undefined) {
          sinkBatches[0].push({ record, effects: only });
          effectsOut += only.length;
        } else if (perSink !== undefined) {
          for (let s = 0; s < sinks.length; s++) {
            const list = perSink[s];
            if (list !== undefined) {
              sinkBatches[s].push({ record, effects: list });
              effectsOut += list.length;
            }
          }
        }
      };

      /**
       * Runs the record's processors from route `from` on. Returns undefined when everything ran synchronously:
       * only a processor that really returns a promise makes the record (and the loop) await.
       */
      const step = (record: StreamRecord, routes: readonly Route<Processor<E>>[], from: number): Promise<void> | undefined => {
        try {
          for (let r = from; r < routes.length; r++) {
            const route = routes[r];
            stage = route.processor.name;
            if (route.where !== undefined && !route.where(record)) continue;
            routed = true;
            const out = route.processor.process(record, processContext);
            if (!Array.isArray(out)) return resume(record, routes, r, out);
            collect(record, out);
          }
        } catch (error) {
          failRecord(record, error);
          return undefined;
        }
        finish(record);
        return undefined;
      };

      const resume = async (
        record: StreamRecord,
        routes: readonly Route<Processor<E>>[],
        r: number,
        result: readonly E[] | Promise<readonly E[]>,
      ): Promise<void> => {
        try {
          const out: unknown = await result;
          if (!Array.isArray(out)) {
            throw new ShardflowError(
              ErrorCode.Unexpected,
              `Processor "${stage}" returned ${out === null ? 'null' : typeof out} instead of an array of effects for record ${record.recordId}.`,
              { recordId: record.recordId },
            );
          }
          collect(record, out as readonly E[]);
        } catch (error) {
          failRecord(record, error);
          return;
        }
        const next = step(record, routes, r + 1);
        if (next !== undefined) await next;
      };

      const runRecord = (record: StreamRecord): Promise<void> | undefined => {
        records++;
        if (blockAll || (blocked.size !== 0 && blocked.has(record.partitionKey))) {
          skipped++;
          report(record.position, record.sequenceNumber);
          return undefined;
        }
        only = undefined;
        perSink = undefined;
        routed = false;
        stage = '';
        return step(record, router.candidates(record), 0);
      };

      for (let position = 0; position < n; position++) {
        const raw: unknown = rawRecords[position];
        if (pastDeadline()) {
          const sequenceNumber = rawSequenceNumber(raw);
          if (sequenceNumber !== undefined) {
            records++;
            deadlineSkipped++;
            report(position, sequenceNumber);
            continue;
          }
          // Not reportable as it stands: decode it (without running it) so it is reported or captured.
          const result = normalizeRecord(raw, position);
          if (result.ok) for (const record of result.records) runDeadlineSkip(record);
          else failUndecodable(result.error, result.provenance, raw, position);
          continue;
        }
        let decoded: StreamRecord | StreamRecord[];
        try {
          decoded = decodeRecord(raw, position);
        } catch (caught) {
          const failure = normalizeFailure(caught, raw, position);
          failUndecodable(failure.error, failure.provenance, raw, position);
          continue;
        }
        if (!Array.isArray(decoded)) {
          const running = runRecord(decoded);
          if (running !== undefined) await running;
          continue;
        }
        const subRecords = decoded;
        for (let i = 0; i < subRecords.length; i++) {
          // The deadline was checked before this raw record; KPL user records after the first check again.
          if (i > 0 && pastDeadline()) {
            runDeadlineSkip(subRecords[i]);
            continue;
          }
          const running = runRecord(subRecords[i]);
          if (running !== undefined) await running;
        }
      }

      function runDeadlineSkip(record: StreamRecord): void {
        records++;
        deadlineSkipped++;
        report(record.position, record.sequenceNumber);
      }

      function failUndecodable(error: ShardflowError, provenance: Partial<Provenance>, raw: unknown, position: number): void {
        records++;
        // A broken KPL aggregate hides its user records' keys: the outer key says nothing about them.
        const kpl = error.code === ErrorCode.InvalidKplAggregate || error.code === ErrorCode.KplChecksumMismatch;
        onFailure(error, NORMALIZE_STAGE, undefined, provenance, raw, position, kpl ? undefined : provenance.partitionKey);
      }

      if (deadlineReached) {
        logger.warn('Deadline reached: records not started are reported for retry', {
          deadlineMarginMs,
          notStarted: deadlineSkipped,
        });
      }

      // Sinks are independent of each other, so they run concurrently; each gets its records in batch order.
      const results = await Promise.all(
        sinks.map(async (sink, s) => {
          const batch = sinkBatches[s];
          if (batch.length === 0) return EMPTY_FAILURES;
          try {
            const result = await sink.apply(batch);
            if (result === null || typeof result !== 'object' || !Array.isArray(result.failed)) {
              throw new ShardflowError(ErrorCode.Unexpected, `Sink "${sink.name}" returned no failed list from apply().`);
            }
            return result;
          } catch (error) {
            // A sink that throws applied nothing we can vouch for: every record it was given failed.
            return { failed: batch.map(({ record }) => ({ recordId: record.recordId, error })) };
          }
        }),
      );

      let ranIndexById: Map<string, number[]> | undefined;
      const sinkFaults = new Map<number, { error: unknown; stage: string }>();
      for (let s = 0; s < sinks.length; s++) {
        const failures = results[s].failed;
        if (failures.length === 0) continue;
        if (ranIndexById === undefined) {
          ranIndexById = new Map();
          for (let i = 0; i < ran.length; i++) {
            const list = ranIndexById.get(ran[i].recordId);
            if (list === undefined) ranIndexById.set(ran[i].recordId, [i]);
            else list.push(i);
          }
        }
        for (const failure of failures) {
          const indices = ranIndexById.get(failure.recordId);
          if (indices === undefined) {
            logger.warn('A sink reported a failure for a record it was not given; ignored', { sink: sinks[s].name, recordId: failure.recordId });
            continue;
          }
          for (const i of indices) {
            if (ranState()[i] === FAILED) continue;
            const record = ran[i];
            let retry = isRetryable(failure.error);
            if (!retry) {
              const action =
                typeof permanentAction === 'string'
                  ? permanentAction
                  : permanentAction({
                      stage: sinks[s].name,
                      error: failure.error as ShardflowError,
                      record,
                      provenance: provenanceOf(record),
                      position: record.position,
                      raw: record.raw,
                    });
              retry = action === PermanentErrorAction.Retry;
            }
            if (retry) {
              // A retry wins over a capture by another sink: the record comes back and is judged again.
              ranState()[i] = FAILED;
              sinkFaults.delete(i);
              report(record.position, record.sequenceNumber);
              lateBlocks.push({ partitionKey: record.partitionKey, cursor: i + 1 });
              logger.warn('Record reported for retry', {
                recordId: record.recordId,
                stage: sinks[s].name,
                position: record.position,
                sequenceNumber: record.sequenceNumber,
                partitionKey: record.partitionKey,
                error: errorSummary(failure.error),
              });
            } else if (!sinkFaults.has(i)) {
              ranState()[i] = FAULTED;
              sinkFaults.set(i, { error: failure.error, stage: sinks[s].name });
            }
          }
        }
      }
      for (const [i, { error, stage }] of sinkFaults) {
        const record = ran[i];
        pending.push({
          fault: {
            recordId: record.recordId,
            provenance: provenanceOf(record),
            position: record.position,
            error: errorSummary(error),
            stage,
            raw: record.raw,
            capturedAt: 0,
          },
          sequenceNumber: record.sequenceNumber,
          partitionKey: record.partitionKey,
          ranIndex: i,
          cursor: i + 1,
        });
      }

      let captured: Fault[] = [];
      if (pending.length > 0) {
        const capturedAt = Date.now();
        const faults = pending.map(({ fault }) => ({ ...fault, capturedAt }));
        let captureError: unknown;
        if (faultSink === undefined) {
          captureError = new ShardflowError(ErrorCode.FaultCaptureFailed, 'No fault sink is configured.');
        } else {
          try {
            await faultSink.capture(faults);
            captured = faults;
          } catch (error) {
            captureError = error;
          }
        }
        if (captureError === undefined) {
          for (const fault of faults) {
            logger.error('Record captured as a fault', {
              recordId: fault.recordId,
              stage: fault.stage,
              position: fault.position,
              error: fault.error,
            });
          }
        } else {
          // Never lost: what cannot be kept is retried, and what cannot be retried fails the whole batch.
          const unreportable = pending.filter((p) => p.sequenceNumber === undefined);
          if (unreportable.length > 0) {
            throw new ShardflowError(
              ErrorCode.FaultCaptureFailed,
              `Records ${unreportable.map((p) => p.fault.recordId).join(', ')} could not be captured as faults ` +
                `(${errorMessage(captureError)}) and have no sequence number to report, so the whole batch must be retried.`,
              { cause: captureError },
            );
          }
          logger.error('Faults could not be captured; the records are reported for retry', {
            error: errorMessage(captureError),
            records: pending.map((p) => p.fault.recordId),
          });
          for (const p of pending) {
            report(p.fault.position, p.sequenceNumber as string);
            if (p.ranIndex >= 0) ranState()[p.ranIndex] = FAILED;
            else failed++;
            lateBlocks.push({ partitionKey: p.partitionKey, cursor: p.cursor });
          }
        }
      }

      // Records after a late failure (sink or capture) with the same key already ran; report them too, so
      // the response tells the whole story for that key. Re-applying them on redelivery is idempotent.
      if (lateBlocks.length > 0) {
        let allFrom = Infinity;
        let from = Infinity; // records before the earliest cursor are not behind any late failure
        const keyFrom = new Map<string, number>();
        for (const { partitionKey, cursor } of lateBlocks) {
          from = Math.min(from, cursor);
          if (partitionKey === undefined) allFrom = Math.min(allFrom, cursor);
          else keyFrom.set(partitionKey, Math.min(keyFrom.get(partitionKey) ?? Infinity, cursor));
        }
        for (let i = from; i < ran.length; i++) {
          if (ranState()[i] !== APPLIED) continue;
          const record = ran[i];
          if (i >= allFrom || i >= (keyFrom.get(record.partitionKey) ?? Infinity)) {
            ranState()[i] = SKIPPED;
            report(record.position, record.sequenceNumber);
          }
        }
      }

      let processed = ran.length;
      if (ranStates !== undefined) {
        for (let i = 0; i < ranStates.length; i++) {
          const state = ranStates[i];
          if (state === APPLIED) continue;
          processed--;
          if (state === FAILED) failed++;
          else if (state === SKIPPED) skipped++;
        }
      }
      const faulted = captured.length;

      const batchItemFailures: BatchItemFailure[] = [];
      if (reportedAt !== undefined) {
        const seen = new Set<string>();
        for (let position = 0; position < n; position++) {
          const sequenceNumber = reportedAt[position];
          if (sequenceNumber !== undefined && !seen.has(sequenceNumber)) {
            seen.add(sequenceNumber);
            batchItemFailures.push({ itemIdentifier: sequenceNumber });
          }
        }
      }

      return {
        response: { batchItemFailures },
        faults: captured,
        stats: {
          recordsIn: n,
          records,
          processed,
          unrouted,
          failed,
          skipped,
          deadlineSkipped,
          faulted,
          effects: effectsOut,
          batchItemFailures: batchItemFailures.length,
          durationMs: performance.now() - started,
        },
      };
    },
  };
}

/**
 * Routes one record's effects to the sinks that accept them: `perSink[s]` gets the effects for `sinks[s]` (a new
 * array on a sink's first effect, pushed to after that). Throws `NO_SINK_FOR_EFFECT`, naming processor `stage`,
 * for an effect no sink accepts.
 */
export function routeEffects<E extends EffectBase>(
  effects: readonly E[],
  sinks: readonly Sink<E>[],
  perSink: (E[] | undefined)[],
  stage: string,
  record: StreamRecord,
): void {
  for (const effect of effects) {
    let accepted = false;
    for (let s = 0; s < sinks.length; s++) {
      if (sinks[s].accepts(effect)) {
        accepted = true;
        const list = perSink[s];
        if (list === undefined) perSink[s] = [effect];
        else list.push(effect);
      }
    }
    if (!accepted) throw noSink(effect, stage, record, sinks);
  }
}

function noSink<E extends EffectBase>(effect: E, stage: string, record: StreamRecord, sinks: readonly Sink<E>[]): ShardflowError {
  return new ShardflowError(
    ErrorCode.NoSinkForEffect,
    `Processor "${stage}" produced a "${effect.type}" effect for record ${record.recordId} that no sink accepts ` +
      `(sinks: ${sinks.map((s) => s.name).join(', ') || 'none'}).`,
    { recordId: record.recordId },
  );
}
