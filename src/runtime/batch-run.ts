/**
 * One batch through the pipeline: normalize -> route -> process -> hand effects to the sink stages -> settle
 * sink failures -> capture faults -> partial batch response. Every delivered record ends as exactly one of:
 * applied (or unrouted, i.e. acknowledged), reported for retry (failed, or skipped behind a failed record with the
 * same partition key, or not started before the deadline), or captured as a fault. Nothing is dropped: when a
 * fault cannot be captured it is reported for retry, and when it cannot be reported either (no usable sequence
 * number) the whole batch fails. A sink or fault sink that cannot reach its tables at all (`DEPLOYMENT_ERROR`)
 * fails the whole batch too: that is the deployment's problem, and no record may become a fault for it.
 */
import type { Context } from 'aws-lambda';
import type { BatchOutcome } from './batch-outcome';
import { ErrorCode, ShardflowError, errorMessage, isRetryable, isShardflowError } from './errors';
import type { PipelineLogger } from './logging';
import { provenanceData, type BatchItemFailure, type Provenance, type StreamRecord } from './model';
import { decodeRecord, faultRaw, isRedriven, normalizeFailure, normalizeRecord, rawSequenceNumber, redriveStages, releaseRecord } from './normalize';
import { InflationBudget } from './payload';
import { NORMALIZE_STAGE, PermanentErrorAction, type PermanentFailure } from './pipeline-options';
import { RanRecords } from './ran-records';
import { RecordValidation } from './record-schema';
import type { Route, Router } from './router';
import { callProcessor } from './run-processor';
import { SinkStage, noSink, routeEffects } from './sink-stage';
import type { AnyProcessor, EffectBase, Fault, FaultSink, ProcessContext, Sink, SinkCounts, SinkResult, StreamEvent } from './types';

/** Longer error messages are cut in faults: a fault's size must not depend on what a processor put in a message. */
const MAX_FAULT_MESSAGE_LENGTH = 4096;

function errorSummary(error: unknown): Fault['error'] {
  const summary = isShardflowError(error)
    ? { code: error.code, message: error.message, retryable: error.retryable }
    : { code: ErrorCode.Unexpected, message: errorMessage(error), retryable: true };
  const { message } = summary;
  if (message.length <= MAX_FAULT_MESSAGE_LENGTH) return summary;
  // A cut inside a surrogate pair would keep half a character.
  const end = /[\uD800-\uDBFF]/.test(message.charAt(MAX_FAULT_MESSAGE_LENGTH - 1)) ? MAX_FAULT_MESSAGE_LENGTH - 1 : MAX_FAULT_MESSAGE_LENGTH;
  return { ...summary, message: `${message.slice(0, end)}… [cut: the message had ${message.length} characters]` };
}

/**
 * A processor's error as the loop judges it. Processors are pure, so an error that is not a ShardflowError (a
 * TypeError, a stack overflow) would come back on every delivery: it becomes a permanent `PROCESSOR_FAILED`, and
 * the record is captured with its data. Only a retryable ShardflowError (`RetryableError`) asks for a retry.
 */
function processorFailure(error: unknown, processor: string, record: StreamRecord): ShardflowError {
  if (isShardflowError(error)) return error;
  return new ShardflowError(
    ErrorCode.ProcessorFailed,
    `Processor "${processor}" failed on record ${record.recordId}: ${errorMessage(error).replace(/\.$/, '')}.`,
    { recordId: record.recordId, cause: error },
  );
}

function isDeploymentError(error: unknown): boolean {
  return isShardflowError(error) && error.code === ErrorCode.DeploymentError;
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
  /** Index among the records that ran through processors (`BatchRun.ran`), -1 otherwise. */
  readonly ranIndex: number;
  /** Records that ran at this index and later come later in the batch. */
  readonly cursor: number;
  /** A fault being redriven: no sink's checkpoint passes it now (`SinkSession.beforeFaults` is not told). */
  readonly redriven: boolean;
}

/** A failure whose later same-key records already ran and must be reported too. */
interface LateBlock {
  readonly partitionKey: string | undefined;
  readonly cursor: number;
}

/** What `definePipeline` fixed once, shared by every batch. */
export interface PipelineSetup<E extends EffectBase> {
  readonly router: Router<AnyProcessor<E>>;
  readonly sinks: readonly Sink<E>[];
  /** The sinks' names: a redriven record whose faults all name sinks goes to those only. */
  readonly sinkNames: ReadonlySet<string>;
  readonly faultSink: FaultSink | undefined;
  /** `capture` or `retry` when it cannot depend on the failure, else the user's callback (checked). */
  readonly permanentAction: PermanentErrorAction | ((failure: PermanentFailure) => PermanentErrorAction);
  readonly deadlineMarginMs: number;
  /** A sink needs each shard's records without holes: the batch stops at its first failed record (`Sink.stopAtFirstFailure`). */
  readonly stopAtFirstFailure: boolean;
  /** What the batch's gzip payloads may inflate to in total. */
  readonly inflationBudgetBytes: number;
  readonly logger: PipelineLogger;
}

/** `ProcessContext` of one invocation. */
class InvocationClock implements ProcessContext {
  constructor(private readonly context: Pick<Context, 'getRemainingTimeInMillis'> | undefined) {}

  remainingTimeMs(): number {
    return this.context === undefined ? Infinity : this.context.getRemainingTimeInMillis();
  }
}

/**
 * One batch through the pipeline. A class rather than closures made per batch: V8's optimized code embeds the
 * functions it inlines, and closures of a batch that has ended die at the next full collection, which would throw
 * that code away and compile it again after every mark-compact.
 */
export class BatchRun<E extends EffectBase> {
  private readonly started = performance.now();
  private readonly rawRecords: readonly unknown[];
  private readonly clock: InvocationClock;
  private readonly context: Pick<Context, 'getRemainingTimeInMillis'> | undefined;
  private readonly stages: SinkStage<E>[];
  private readonly inflation: InflationBudget;
  /** Schema results of the record in hand, shared by the processors that read it with the same schema. */
  private readonly validation = new RecordValidation();

  /** Reported sequence numbers by raw position, so the response comes out in batch order; made on first use. */
  private reportedAt: (string | undefined)[] | undefined;
  /**
   * Where the records that ran through processors successfully came from. Not the records: a batch keeping 10,000
   * of them alive until its sinks ran pays for them in every scavenge. The rare paths that need one again (sink
   * failures, late blocks) decode it again.
   */
  private readonly ran = new RanRecords();
  /** Raw records decoded again, by position. */
  private redecoded: Map<number, StreamRecord | StreamRecord[]> | undefined;
  /** States of the records that ran, made when the sink stage first changes one (APPLIED until then). */
  private ranStates: Uint8Array | undefined;
  private readonly pending: PendingFault[] = [];
  private readonly lateBlocks: LateBlock[] = [];
  /** Partition keys blocked for the rest of the batch by a retryable failure. */
  private readonly blocked = new Set<string>();
  /** A record of unknown partition key was reported: everything after it waits. */
  private blockAll = false;
  private deadlineReached = false;

  private records = 0;
  private unrouted = 0;
  private failed = 0;
  private skipped = 0;
  private deadlineSkipped = 0;
  private effectsOut = 0;

  // The record in flight. Records run one at a time, so fields do, and the sync path allocates nothing per
  // record beyond what it hands to sinks.
  /** Single-sink fast path: the record's effects for sinks[0]. */
  private only: readonly E[] | undefined;
  private perSink: (E[] | undefined)[] | undefined;
  private routed = false;
  private stage = '';
  /** Its index among the user records of its raw record (`RanRecords`), -1 when it is not a KPL user record. */
  private userRecord = -1;

  constructor(
    private readonly setup: PipelineSetup<E>,
    event: StreamEvent,
    context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  ) {
    const rawRecords: unknown = (event as { Records?: unknown } | null)?.Records;
    if (!Array.isArray(rawRecords)) {
      throw new ShardflowError(ErrorCode.MissingField, 'The event has no Records array, so it is not a Kinesis or DynamoDB stream event.');
    }
    this.rawRecords = rawRecords;
    this.context = context !== undefined && typeof context.getRemainingTimeInMillis === 'function' ? context : undefined;
    this.clock = new InvocationClock(this.context);
    this.stages = setup.sinks.map((sink) => new SinkStage(sink));
    this.inflation = new InflationBudget(setup.inflationBudgetBytes);
  }

  async run(): Promise<BatchOutcome> {
    const rawRecords = this.rawRecords;
    for (let position = 0; position < rawRecords.length; position++) {
      const raw = rawRecords[position];
      if (this.pastDeadline()) {
        this.skipUndecoded(raw, position);
        continue;
      }
      let decoded: StreamRecord | StreamRecord[];
      try {
        decoded = decodeRecord(raw, position, this.inflation);
      } catch (caught) {
        const failure = normalizeFailure(caught, raw, position);
        this.failUndecodable(failure.error, failure.provenance, raw, position);
        continue;
      }
      if (!Array.isArray(decoded)) {
        const running = this.runRecord(decoded, -1);
        if (running !== undefined) await running;
        continue;
      }
      for (let i = 0; i < decoded.length; i++) {
        // The deadline was checked before this raw record; KPL user records after the first check again.
        if (i > 0 && this.pastDeadline()) {
          this.skipForDeadline(decoded[i]);
          continue;
        }
        const running = this.runRecord(decoded[i], i);
        if (running !== undefined) await running;
      }
    }
    if (this.deadlineReached) {
      this.setup.logger.warn('Deadline reached: records not started are reported for retry', {
        deadlineMarginMs: this.setup.deadlineMarginMs,
        notStarted: this.deadlineSkipped,
      });
    }
    // A sink that needs no holes must not write past a record that is neither applied nor kept: faults first.
    const capturedFirst = this.setup.stopAtFirstFailure ? await this.captureFaultsBeforeSinks() : [];
    // Sinks are independent of each other, so they run concurrently; each got its records in batch order.
    const results = await Promise.all(this.stages.map((stage) => stage.flush((i) => this.ranRecord(i).recordId)));
    this.judgeSinkFailures(results);
    const captured = await this.captureFaults();
    this.reportLateBlocks();
    return this.outcome([...capturedFirst, ...captured], sumCounts(results));
  }

  private pastDeadline(): boolean {
    if (!this.deadlineReached && this.context !== undefined && this.context.getRemainingTimeInMillis() < this.setup.deadlineMarginMs) {
      this.deadlineReached = true;
    }
    return this.deadlineReached;
  }

  private report(position: number, sequenceNumber: string): void {
    (this.reportedAt ??= new Array<string | undefined>(this.rawRecords.length))[position] = sequenceNumber;
  }

  private ranState(): Uint8Array {
    return (this.ranStates ??= new Uint8Array(this.ran.length));
  }

  /** The record at `i` of the records that ran, decoded again (it decoded before, so it does again). */
  private ranRecord(i: number): StreamRecord {
    const position = this.ran.position(i);
    this.redecoded ??= new Map();
    let decoded = this.redecoded.get(position);
    if (decoded === undefined) {
      decoded = decodeRecord(this.rawRecords[position], position, this.inflation);
      this.redecoded.set(position, decoded);
    }
    return Array.isArray(decoded) ? decoded[this.ran.userRecord(i)] : decoded;
  }

  /** A raw record reached after the deadline: reported without running; decoded only if that is the only way. */
  private skipUndecoded(raw: unknown, position: number): void {
    const sequenceNumber = rawSequenceNumber(raw);
    if (sequenceNumber !== undefined) {
      this.records++;
      this.deadlineSkipped++;
      this.report(position, sequenceNumber);
      return;
    }
    // Not reportable as it stands: decode it (without running it) so it is reported or captured.
    const result = normalizeRecord(raw, position);
    if (result.ok) for (const record of result.records) this.skipForDeadline(record);
    else this.failUndecodable(result.error, result.provenance, raw, position);
  }

  private skipForDeadline(record: StreamRecord): void {
    this.records++;
    this.deadlineSkipped++;
    this.report(record.position, record.sequenceNumber);
  }

  private failUndecodable(error: ShardflowError, provenance: Partial<Provenance>, raw: unknown, position: number): void {
    this.records++;
    // A broken KPL aggregate hides its user records' keys: the outer key says nothing about them.
    const kpl = error.code === ErrorCode.InvalidKplAggregate || error.code === ErrorCode.KplChecksumMismatch;
    this.onFailure(error, NORMALIZE_STAGE, undefined, provenance, raw, position, kpl ? undefined : provenance.partitionKey);
  }

  /** A record failed in processing: block its key (or everything, when the key is unknown or holes are not allowed). */
  private blockAfter(partitionKey: string | undefined): void {
    if (partitionKey === undefined || this.setup.stopAtFirstFailure) this.blockAll = true;
    else this.blocked.add(partitionKey);
  }

  /**
   * A record (or a whole raw record that could not be decoded, when `record` is undefined) failed before
   * reaching sinks: report it and block its key, or keep it for the fault sink.
   */
  private onFailure(
    error: unknown,
    stage: string,
    record: StreamRecord | undefined,
    provenance: Partial<Provenance>,
    raw: unknown,
    position: number,
    partitionKey: string | undefined,
  ): void {
    // Decoding checked provenance.sequenceNumber with the check of its event source, so it is usable as it is.
    const sequenceNumber = record !== undefined ? record.sequenceNumber : provenance.sequenceNumber;
    const recordId = record?.recordId ?? provenance.eventID ?? `at batch position ${position}`;
    // A record that cannot be named in the response can only be kept as a fault, even when a retry could help.
    if (sequenceNumber !== undefined && this.retries(error, stage, record, provenance, position, raw)) {
      this.failed++;
      this.report(position, sequenceNumber);
      this.blockAfter(partitionKey);
      this.logRetry(error, stage, recordId, position, sequenceNumber, partitionKey);
      return;
    }
    this.pending.push({
      fault: { recordId, provenance, position, error: errorSummary(error), stage, raw: record === undefined ? raw : faultRaw(record), capturedAt: 0 },
      sequenceNumber,
      partitionKey,
      ranIndex: -1,
      cursor: this.ran.length,
      redriven: isRedriven(record ?? { raw }),
    });
  }

  /**
   * Whether a failed record is reported for retry rather than kept as a fault: a retryable error always is, a
   * permanent one as the policy says. The one judgement for failures in processing and in sinks.
   */
  private retries(
    error: unknown,
    stage: string,
    record: StreamRecord | undefined,
    provenance: Partial<Provenance>,
    position: number,
    raw: unknown,
  ): boolean {
    if (isRetryable(error)) return true;
    const policy = this.setup.permanentAction;
    const action = typeof policy === 'string' ? policy : policy({ stage, error: error as ShardflowError, record, provenance, position, raw });
    return action === PermanentErrorAction.Retry;
  }

  private logRetry(
    error: unknown,
    stage: string,
    recordId: string,
    position: number,
    sequenceNumber: string,
    partitionKey: string | undefined,
  ): void {
    this.setup.logger.warn('Record reported for retry', { recordId, stage, position, sequenceNumber, partitionKey, error: errorSummary(error) });
  }

  /** Runs one record: `userRecord` is its index among the user records its raw record decoded to, else -1. */
  private runRecord(record: StreamRecord, userRecord: number): Promise<void> | undefined {
    this.records++;
    if (this.blockAll || (this.blocked.size !== 0 && this.blocked.has(record.partitionKey))) {
      this.skipped++;
      this.report(record.position, record.sequenceNumber);
      return undefined;
    }
    this.only = undefined;
    this.perSink = undefined;
    this.routed = false;
    this.stage = '';
    this.userRecord = userRecord;
    return this.step(record, this.setup.router.candidates(record), 0);
  }

  /**
   * Runs the record's processors from route `from` on (a processor with a schema gets the record validated
   * first). Returns undefined when everything ran synchronously: only a processor or schema that really returns a
   * promise makes the record (and the loop) await.
   */
  private step(record: StreamRecord, routes: readonly Route<AnyProcessor<E>>[], from: number): Promise<void> | undefined {
    try {
      for (let r = from; r < routes.length; r++) {
        const route = routes[r];
        this.stage = route.processor.name;
        if (route.where !== undefined && !route.where(record)) continue;
        this.routed = true;
        const out = callProcessor(route, this.validation, record, this.clock);
        if (!Array.isArray(out)) return this.resume(record, routes, r, out);
        this.collect(record, out);
      }
    } catch (error) {
      this.failRecord(record, error);
      return undefined;
    }
    this.finish(record);
    return undefined;
  }

  private async resume(
    record: StreamRecord,
    routes: readonly Route<AnyProcessor<E>>[],
    r: number,
    result: readonly E[] | Promise<readonly E[]>,
  ): Promise<void> {
    try {
      const out: unknown = await result;
      if (!Array.isArray(out)) {
        throw new ShardflowError(
          ErrorCode.ProcessorFailed,
          `Processor "${this.stage}" returned ${out === null ? 'null' : typeof out} instead of an array of effects for record ${record.recordId}.`,
          { recordId: record.recordId },
        );
      }
      this.collect(record, out as readonly E[]);
    } catch (error) {
      this.failRecord(record, error);
      return;
    }
    const next = this.step(record, routes, r + 1);
    if (next !== undefined) await next;
  }

  private collect(record: StreamRecord, effects: readonly E[]): void {
    if (effects.length === 0) return;
    const sinks = this.setup.sinks;
    if (sinks.length === 1) {
      const sink = sinks[0];
      for (let i = 0; i < effects.length; i++) {
        if (!sink.accepts(effects[i])) throw noSink(effects[i], this.stage, record, sinks);
      }
      this.only = this.only === undefined ? effects : this.only.concat(effects);
      return;
    }
    routeEffects(effects, sinks, (this.perSink ??= new Array<E[] | undefined>(sinks.length)), this.stage, record);
  }

  private failRecord(record: StreamRecord, error: unknown): void {
    releaseRecord(record);
    this.onFailure(processorFailure(error, this.stage, record), this.stage, record, provenanceData(record), record.raw, record.position, record.partitionKey);
  }

  /** Hands the record's effects to its sinks' stages; the record stays, what its processors decoded need not. */
  private finish(record: StreamRecord): void {
    releaseRecord(record);
    if (!this.routed) {
      this.unrouted++;
      return;
    }
    const ranIndex = this.ran.push(record.position, this.userRecord);
    const only = this.only;
    if (only !== undefined) {
      this.stages[0].add(record, only, ranIndex);
      this.effectsOut += only.length;
      return;
    }
    const perSink = this.perSink;
    if (perSink === undefined) return;
    const onlyTo = this.redriveSinks(record);
    for (let s = 0; s < perSink.length; s++) {
      const list = perSink[s];
      if (list !== undefined && (onlyTo === undefined || onlyTo.has(this.setup.sinks[s].name))) {
        this.stages[s].add(record, list, ranIndex);
        this.effectsOut += list.length;
      }
    }
  }

  /**
   * The sinks a redriven record goes to when its faults were all captured at sinks: only those, as the others applied
   * it when it was captured (a sink that keeps a checkpoint would otherwise apply it again). Undefined: every sink.
   */
  private redriveSinks(record: StreamRecord): ReadonlySet<string> | undefined {
    const stages = redriveStages(record);
    if (stages === undefined) return undefined;
    const sinkNames = this.setup.sinkNames;
    return stages.every((stage) => sinkNames.has(stage)) ? new Set(stages) : undefined;
  }

  /** Turns the sinks' failures into retries (reported, blocking their key) or faults (captured next). */
  private judgeSinkFailures(results: readonly SinkResult[]): void {
    for (const { failed } of results) {
      const deployment = failed.find((failure) => isDeploymentError(failure.error));
      if (deployment !== undefined) throw deployment.error;
    }
    const { sinks, logger } = this.setup;
    const ranCount = this.ran.length;
    let ranIndexById: Map<string, number[]> | undefined;
    const sinkFaults = new Map<number, { error: unknown; stage: string }>();
    for (let s = 0; s < sinks.length; s++) {
      const failures = results[s].failed;
      if (failures.length === 0) continue;
      if (ranIndexById === undefined) {
        ranIndexById = new Map();
        for (let i = 0; i < ranCount; i++) {
          const recordId = this.ranRecord(i).recordId;
          const list = ranIndexById.get(recordId);
          if (list === undefined) ranIndexById.set(recordId, [i]);
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
          if (this.ranState()[i] === FAILED) continue;
          const record = this.ranRecord(i);
          if (this.retries(failure.error, sinks[s].name, record, provenanceData(record), record.position, record.raw)) {
            // A retry wins over a capture by another sink: the record comes back and is judged again.
            this.ranState()[i] = FAILED;
            sinkFaults.delete(i);
            this.report(record.position, record.sequenceNumber);
            this.lateBlocks.push({ partitionKey: record.partitionKey, cursor: i + 1 });
            this.logRetry(failure.error, sinks[s].name, record.recordId, record.position, record.sequenceNumber, record.partitionKey);
          } else if (!sinkFaults.has(i)) {
            this.ranState()[i] = FAULTED;
            sinkFaults.set(i, { error: failure.error, stage: sinks[s].name });
          }
        }
      }
    }
    for (const [i, { error, stage }] of sinkFaults) {
      const record = this.ranRecord(i);
      this.pending.push({
        fault: {
          recordId: record.recordId,
          provenance: provenanceData(record),
          position: record.position,
          error: errorSummary(error),
          stage,
          raw: faultRaw(record),
          capturedAt: 0,
        },
        sequenceNumber: record.sequenceNumber,
        partitionKey: record.partitionKey,
        ranIndex: i,
        cursor: i + 1,
        redriven: isRedriven(record),
      });
    }
  }

  /**
   * Captures the faults of processing before the sinks write (`stopAtFirstFailure`), once the sinks' sessions know of
   * them (`SinkSession.beforeFaults`). One that cannot be kept fails the whole batch: reported instead, it would come
   * back after the sinks had passed it, and a checkpoint that passed a record skips it on every later delivery.
   */
  private async captureFaultsBeforeSinks(): Promise<Fault[]> {
    if (this.pending.length === 0) return [];
    const faults = this.pending.filter(({ redriven }) => !redriven).map(({ fault }) => fault);
    if (faults.length > 0) for (const stage of this.stages) await stage.beforeFaults(faults);
    const captured = await this.captureFaults();
    if (captured.length === 0) {
      throw new ShardflowError(
        ErrorCode.FaultCaptureFailed,
        `Records ${this.pending.map((p) => p.fault.recordId).join(', ')} could not be captured as faults, and a sink needs ` +
          'its shard\'s records without holes, so the whole batch must be retried.',
      );
    }
    this.pending.length = 0;
    return captured;
  }

  /** Captures the pending faults; what cannot be kept is reported, and what cannot be reported fails the batch. */
  private async captureFaults(): Promise<Fault[]> {
    const pending = this.pending;
    if (pending.length === 0) return [];
    const { faultSink, logger } = this.setup;
    const capturedAt = Date.now();
    const faults = pending.map(({ fault }) => ({ ...fault, capturedAt }));
    let captureError: unknown;
    if (faultSink === undefined) {
      captureError = new ShardflowError(ErrorCode.FaultCaptureFailed, 'No fault sink is configured.');
    } else {
      try {
        await faultSink.capture(faults);
      } catch (error) {
        captureError = error;
      }
    }
    if (isDeploymentError(captureError)) throw captureError;
    if (captureError === undefined) {
      for (const fault of faults) {
        logger.error('Record captured as a fault', { recordId: fault.recordId, stage: fault.stage, position: fault.position, error: fault.error });
      }
      return faults;
    }
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
      this.report(p.fault.position, p.sequenceNumber as string);
      if (p.ranIndex >= 0) this.ranState()[p.ranIndex] = FAILED;
      else this.failed++;
      this.lateBlocks.push({ partitionKey: p.partitionKey, cursor: p.cursor });
    }
    return [];
  }

  /**
   * Records after a late failure (sink or capture) with the same key already ran; report them too, so the
   * response tells the whole story for that key. Re-applying them on redelivery is idempotent.
   */
  private reportLateBlocks(): void {
    if (this.lateBlocks.length === 0) return;
    let allFrom = Infinity;
    let from = Infinity; // records before the earliest cursor are not behind any late failure
    const keyFrom = new Map<string, number>();
    for (const { partitionKey, cursor } of this.lateBlocks) {
      from = Math.min(from, cursor);
      if (partitionKey === undefined || this.setup.stopAtFirstFailure) allFrom = Math.min(allFrom, cursor);
      else keyFrom.set(partitionKey, Math.min(keyFrom.get(partitionKey) ?? Infinity, cursor));
    }
    for (let i = from; i < this.ran.length; i++) {
      if (this.ranState()[i] !== APPLIED) continue;
      const record = this.ranRecord(i);
      if (i >= allFrom || i >= (keyFrom.get(record.partitionKey) ?? Infinity)) {
        this.ranState()[i] = SKIPPED;
        this.report(record.position, record.sequenceNumber);
      }
    }
  }

  private outcome(captured: readonly Fault[], sinkCounts: SinkCounts): BatchOutcome {
    let processed = this.ran.length;
    let failed = this.failed;
    let skipped = this.skipped;
    const ranStates = this.ranStates;
    if (ranStates !== undefined) {
      for (let i = 0; i < ranStates.length; i++) {
        const state = ranStates[i];
        if (state === APPLIED) continue;
        processed--;
        if (state === FAILED) failed++;
        else if (state === SKIPPED) skipped++;
      }
    }
    const batchItemFailures: BatchItemFailure[] = [];
    const reportedAt = this.reportedAt;
    if (reportedAt !== undefined) {
      const seen = new Set<string>();
      for (let position = 0; position < reportedAt.length; position++) {
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
      sinkCounts,
      stats: {
        recordsIn: this.rawRecords.length,
        records: this.records,
        processed,
        unrouted: this.unrouted,
        failed,
        skipped,
        deadlineSkipped: this.deadlineSkipped,
        faulted: captured.length,
        effects: this.effectsOut,
        batchItemFailures: batchItemFailures.length,
        durationMs: performance.now() - this.started,
      },
    };
  }
}

const NO_COUNTS: SinkCounts = {};

/** The sinks' counts, added up name by name. */
function sumCounts(results: readonly SinkResult[]): SinkCounts {
  let sum: Record<string, number> | undefined;
  for (const { counts } of results) {
    if (counts === undefined) continue;
    sum ??= {};
    for (const [name, value] of Object.entries(counts)) if (typeof value === 'number') sum[name] = (sum[name] ?? 0) + value;
  }
  return sum ?? NO_COUNTS;
}
