/**
 * In-memory processors, sinks and fault sinks for the batch-loop tests: each records what it saw, and fails
 * the records a test chooses.
 */
import type { Context } from 'aws-lambda';
import { RetryableError, ValidationError, ShardflowError, ErrorCode } from '../../src/runtime/errors';
import type { PipelineLogger } from '../../src/runtime/logging';
import { provenanceOf, type StreamRecord } from '../../src/runtime/model';
import type {
  AddEffect,
  Effect,
  EffectBase,
  Fault,
  FaultSink,
  ProcessContext,
  Processor,
  RecordEffects,
  RecordFailure,
  Selector,
  Sink,
  SinkResult,
  SinkSession,
} from '../../src/runtime/types';

export const Behaviour = { Ok: 'ok', Async: 'async', Retryable: 'retryable', Permanent: 'permanent', Throw: 'throw' } as const;
export type Behaviour = (typeof Behaviour)[keyof typeof Behaviour];

/** The `id` of a test payload `{ "id": ..., "n": ... }`; JSON payloads are how tests name user records. */
export function payloadId(record: StreamRecord): string {
  const value = record.payload.json() as { id?: unknown };
  if (typeof value.id !== 'string') throw new Error(`Test record ${record.recordId} has no id.`);
  return value.id;
}

export function addEffect(record: StreamRecord, id: string, amount = 1): AddEffect {
  return {
    type: 'add',
    provenance: provenanceOf(record),
    table: 'Totals',
    key: { id },
    add: { n: amount },
  };
}

export interface ProcessorCall {
  readonly id: string;
  readonly recordId: string;
  readonly partitionKey: string;
  readonly behaviour: Behaviour;
}

/**
 * A processor that emits one AddEffect per record, keyed by the payload id, unless `behaviour(id)` says to
 * fail. Every call is logged (before it fails), so tests can see what ran and in which order.
 */
export class ScriptedProcessor implements Processor<Effect> {
  readonly calls: ProcessorCall[] = [];
  readonly onCall: ((call: ProcessorCall) => void)[] = [];

  constructor(
    readonly name: string,
    readonly select: Selector = {},
    private readonly behaviour: (id: string) => Behaviour = () => Behaviour.Ok,
    private readonly idOf: (record: StreamRecord) => string = payloadId,
  ) {}

  process(record: StreamRecord, _context: ProcessContext): readonly Effect[] | Promise<readonly Effect[]> {
    const id = this.idOf(record);
    const behaviour = this.behaviour(id);
    const call = { id, recordId: record.recordId, partitionKey: record.partitionKey, behaviour };
    this.calls.push(call);
    for (const listener of this.onCall) listener(call);
    switch (behaviour) {
      case Behaviour.Retryable:
        throw new RetryableError(`Record ${record.recordId} hit a test dependency that is down.`, { recordId: record.recordId });
      case Behaviour.Permanent:
        throw new ValidationError(`Record ${record.recordId} breaks a test rule.`, { recordId: record.recordId });
      case Behaviour.Throw:
        throw new TypeError('a test bug');
      case Behaviour.Async:
        return Promise.resolve([addEffect(record, id)]);
      default:
        return [addEffect(record, id)];
    }
  }
}

export const SinkBehaviour = { Ok: 'ok', Retryable: 'retryable', Permanent: 'permanent' } as const;
export type SinkBehaviour = (typeof SinkBehaviour)[keyof typeof SinkBehaviour];

/** Sums AddEffects per key in memory. Records for which `behaviour(recordId)` is not ok are reported failed. */
export class MemorySink implements Sink<AddEffect> {
  readonly totals = new Map<string, number>();
  /** recordIds in the order they were applied (each apply call's successes, in batch order). */
  readonly applied: string[] = [];
  readonly batches: (readonly RecordEffects<AddEffect>[])[] = [];
  throwOnApply: unknown = undefined;
  /** Whether the batch loop must stop at the first failed record for this sink. */
  stopAtFirstFailure = false;

  constructor(
    readonly name: string = 'memory',
    private readonly behaviour: (record: StreamRecord) => SinkBehaviour = () => SinkBehaviour.Ok,
  ) {}

  accepts(effect: EffectBase): effect is AddEffect {
    return effect.type === 'add';
  }

  async apply(batch: readonly RecordEffects<AddEffect>[]): Promise<SinkResult> {
    this.batches.push(batch);
    if (this.throwOnApply !== undefined) throw this.throwOnApply;
    const failed: RecordFailure[] = [];
    for (const { record, effects } of batch) {
      const failure = this.judge(record);
      if (failure !== undefined) {
        failed.push(failure);
        continue;
      }
      this.applied.push(record.recordId);
      for (const effect of effects) addTo(this.totals, effect);
    }
    return { failed };
  }

  /** The failure the test chose for a record, or undefined when it is applied. */
  judge(record: StreamRecord): RecordFailure | undefined {
    const behaviour = this.behaviour(record);
    if (behaviour === SinkBehaviour.Retryable) {
      return { recordId: record.recordId, error: new RetryableError(`Record ${record.recordId} was throttled.`) };
    }
    if (behaviour === SinkBehaviour.Permanent) {
      return {
        recordId: record.recordId,
        error: new ShardflowError(ErrorCode.SinkPermanent, `Record ${record.recordId} was refused by the test table.`),
      };
    }
    return undefined;
  }
}

function addTo(totals: Map<string, number>, effect: AddEffect): void {
  const key = String(effect.key.id);
  // The test processors add plain numbers.
  totals.set(key, (totals.get(key) ?? 0) + Number(effect.add.n ?? 0));
}

/**
 * The same sink with sessions: it judges and sums each record as it arrives and merges into its state only at
 * flush, so `totals`, `applied` and `batches` mean what they mean for `MemorySink`. `apply` stays for direct use.
 */
export class SessionMemorySink extends MemorySink implements Sink<AddEffect> {
  opened = 0;
  flushed = 0;
  throwOnAdd: unknown = undefined;
  private session: MemorySession | undefined;

  open(): SinkSession<AddEffect> {
    this.opened++;
    this.session = new MemorySession(this);
    return this.session;
  }

  /** Records the open session has been given so far. */
  staged(): number {
    return this.session?.size() ?? 0;
  }

  /** What a flushed session hands back to its sink. */
  commit(entries: readonly RecordEffects<AddEffect>[], applied: readonly string[], sums: ReadonlyMap<string, number>): void {
    this.flushed++;
    this.batches.push(entries);
    if (this.throwOnApply !== undefined) throw this.throwOnApply;
    this.applied.push(...applied);
    for (const [key, n] of sums) this.totals.set(key, (this.totals.get(key) ?? 0) + n);
  }
}

class MemorySession implements SinkSession<AddEffect> {
  private readonly entries: RecordEffects<AddEffect>[] = [];
  private readonly sums = new Map<string, number>();
  private readonly applied: string[] = [];
  private readonly failed: RecordFailure[] = [];
  private flushed = false;

  constructor(private readonly sink: SessionMemorySink) {}

  size(): number {
    return this.entries.length;
  }

  add(record: StreamRecord, effects: readonly AddEffect[]): void {
    if (this.flushed) throw new Error('add() after flush()');
    if (this.sink.throwOnAdd !== undefined) throw this.sink.throwOnAdd;
    this.entries.push({ record, effects });
    const failure = this.sink.judge(record);
    if (failure !== undefined) {
      this.failed.push(failure);
      return;
    }
    this.applied.push(record.recordId);
    for (const effect of effects) addTo(this.sums, effect);
  }

  async flush(): Promise<SinkResult> {
    if (this.flushed) throw new Error('flush() called twice');
    this.flushed = true;
    this.sink.commit(this.entries, this.applied, this.sums);
    return { failed: this.failed };
  }
}

/** The two ways a sink can take a batch, for tests that must hold for both. */
export const sinkKinds = [
  ['an apply-only sink', MemorySink],
  ['a session sink', SessionMemorySink],
] as const;

export class MemoryFaultSink implements FaultSink {
  readonly name = 'memory-faults';
  readonly faults: Fault[] = [];
  failWith: unknown = undefined;

  async capture(faults: readonly Fault[]): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    this.faults.push(...faults);
  }
}

/** A Lambda context whose remaining time drops below any margin after `calls` calls; no clock involved. */
export class FakeContext implements Pick<Context, 'getRemainingTimeInMillis'> {
  calls = 0;
  expired = false;

  constructor(private readonly callsBeforeDeadline: number) {}

  getRemainingTimeInMillis(): number {
    this.calls++;
    if (this.calls > this.callsBeforeDeadline) this.expired = true;
    return this.expired ? 0 : 60_000;
  }
}

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

export class CapturingLogger implements PipelineLogger {
  readonly lines: LogLine[] = [];
  debug(message: string, attributes: Record<string, unknown>): void {
    this.lines.push({ level: 'debug', message, attributes });
  }
  info(message: string, attributes: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, attributes });
  }
  warn(message: string, attributes: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, attributes });
  }
  error(message: string, attributes: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, attributes });
  }
}
