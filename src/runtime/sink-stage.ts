/**
 * The sink side of one batch: which sink gets which effects (`routeEffects`), and each sink's part of the batch
 * (`SinkStage`), fed through a session or collected for one `apply`.
 */
import { ErrorCode, ShardflowError } from './errors';
import type { StreamRecord } from './model';
import type { EffectBase, Fault, RecordEffects, Sink, SinkResult, SinkSession } from './types';

const EMPTY_FAILURES: SinkResult = { failed: [] };

/**
 * One sink's part of one batch. A sink with `open` gets a session, opened on the first record for it, and each
 * record's effects as the record finishes, so it can fold them and the batch keeps none; a sink without it gets
 * the collected records through one `apply`.
 */
export class SinkStage<E extends EffectBase> {
  /** The records for a sink without `open`. */
  private readonly batch: RecordEffects<E>[] | undefined;
  private session: SinkSession<E> | undefined;
  /** Indices (in the batch's records that ran) of the records given to the session: all fail if it throws. */
  private readonly given: number[] = [];
  /** Set when `open` or `add` threw: the session is dropped unflushed. */
  private broken = false;
  private error: unknown;

  constructor(private readonly sink: Sink<E>) {
    this.batch = sink.open === undefined ? [] : undefined;
  }

  add(record: StreamRecord, effects: readonly E[], ranIndex: number): void {
    if (this.batch !== undefined) {
      this.batch.push({ record, effects });
      return;
    }
    this.given.push(ranIndex);
    if (this.broken) return;
    try {
      (this.session ??= this.open()).add(record, effects);
    } catch (error) {
      this.broken = true;
      this.error = error;
      this.session = undefined;
    }
  }

  private open(): SinkSession<E> {
    const session = this.sink.open!() as Partial<SinkSession<E>> | null | undefined;
    if (session === null || typeof session !== 'object' || typeof session.add !== 'function' || typeof session.flush !== 'function') {
      throw new ShardflowError(ErrorCode.Unexpected, `Sink "${this.sink.name}" returned no session (add and flush) from open().`);
    }
    return session as SinkSession<E>;
  }

  /**
   * Hands the faults about to be captured to the session of a sink with `stopAtFirstFailure`
   * (`SinkSession.beforeFaults`), opening it if no record reached the sink. A session broken by `add` cannot say what
   * it would have passed: the batch fails.
   */
  async beforeFaults(faults: readonly Fault[]): Promise<void> {
    if (this.batch !== undefined || this.sink.stopAtFirstFailure !== true) return;
    if (this.broken) throw this.error;
    const session = (this.session ??= this.open());
    if (session.beforeFaults !== undefined) await session.beforeFaults(faults);
  }

  /** Applies the batch or flushes the session. If that throws (or the session threw), every record given fails. */
  async flush(recordIdOf: (ranIndex: number) => string): Promise<SinkResult> {
    const batch = this.batch;
    if ((batch === undefined ? this.given.length : batch.length) === 0) return EMPTY_FAILURES;
    let error = this.error;
    if (!this.broken) {
      try {
        const result = batch !== undefined ? await this.sink.apply(batch) : await this.session!.flush();
        if (result === null || typeof result !== 'object' || !Array.isArray(result.failed)) {
          const method = batch !== undefined ? 'apply' : 'flush';
          throw new ShardflowError(ErrorCode.Unexpected, `Sink "${this.sink.name}" returned no failed list from ${method}().`);
        }
        return result;
      } catch (caught) {
        error = caught;
      }
    }
    // A sink that throws applied nothing we can vouch for: every record it was given failed.
    const recordIds = batch !== undefined ? batch.map((entry) => entry.record.recordId) : this.given.map(recordIdOf);
    return { failed: recordIds.map((recordId) => ({ recordId, error })) };
  }
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

export function noSink<E extends EffectBase>(effect: E, stage: string, record: StreamRecord, sinks: readonly Sink<E>[]): ShardflowError {
  return new ShardflowError(
    ErrorCode.NoSinkForEffect,
    `Processor "${stage}" produced a "${effect.type}" effect for record ${record.recordId} that no sink accepts ` +
      `(sinks: ${sinks.map((s) => s.name).join(', ') || 'none'}).`,
    { recordId: record.recordId },
  );
}
