/**
 * Interop with @aws-lambda-powertools/batch, for users migrating from it: a shardflow processor (and, if given,
 * its sinks) as a Powertools record handler. Powertools then owns the loop and the partial batch response;
 * shardflow's own loop adds per-key blocking, batch-level sink writes, the deadline and fault capture
 * (docs/decisions/batch-loop.md).
 */
import type { Context, DynamoDBRecord, KinesisStreamRecord } from 'aws-lambda';
import { normalizeRecord } from './normalize';
import { routeEffects } from './sink-stage';
import { compileRouter } from './router';
import { runSelected } from './run-processor';
import type { AnyProcessor, Effect, EffectBase, ProcessContext, RecordEffects, Sink } from './types';

export interface PowertoolsRecordHandlerOptions<E extends EffectBase = Effect> {
  /**
   * Sinks that apply each record's effects as soon as the record is processed (one `apply` call per record).
   * Without sinks the handler only returns the effects.
   * @default []
   */
  readonly sinks?: readonly Sink<E>[];
}

/** A record handler for Powertools' `BatchProcessor` with `EventType.KinesisDataStreams` or `DynamoDBStreams`. */
export type PowertoolsRecordHandler<E extends EffectBase = Effect> = (
  record: KinesisStreamRecord | DynamoDBRecord,
  context?: Context,
) => Promise<readonly E[]>;

/**
 * Wraps a processor as a Powertools record handler. The record is normalized (a KPL aggregate runs once per
 * user record), passed to the processor if its selector wants it (validated first, if the processor has a
 * schema), and its effects applied through `sinks`.
 * Any failure throws, so Powertools reports the record (by its parent sequence number) for retry.
 *
 * @example
 * const processor = new BatchProcessor(EventType.KinesisDataStreams);
 * const recordHandler = asPowertoolsRecordHandler(scores, { sinks: [scoresSink] });
 * // Kinesis and DynamoDB records are ordered: let Powertools run them one by one.
 * export const handler = (event, context) =>
 *   processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
 */
export function asPowertoolsRecordHandler<E extends EffectBase = Effect>(
  processor: AnyProcessor<E>,
  options: PowertoolsRecordHandlerOptions<E> = {},
): PowertoolsRecordHandler<E> {
  const router = compileRouter([processor]);
  const sinks = options.sinks ?? [];

  return async (raw, context) => {
    // Powertools does not tell the handler a record's position in the batch.
    const result = normalizeRecord(raw, 0);
    if (!result.ok) throw result.error;
    const processContext: ProcessContext = {
      remainingTimeMs: () => (context === undefined ? Infinity : context.getRemainingTimeInMillis()),
    };
    const produced: RecordEffects<E>[] = [];
    for (const record of result.records) {
      const effects = runSelected(router, record, processContext);
      if (effects !== undefined) produced.push({ record, effects: await effects });
    }
    if (sinks.length === 0) return produced.flatMap(({ effects }) => effects);
    // Routed as the batch loop routes them; an effect no sink accepts fails the record before any sink runs.
    const batches: RecordEffects<E>[][] = sinks.map(() => []);
    for (const { record, effects } of produced) {
      const perSink = new Array<E[] | undefined>(sinks.length);
      routeEffects(effects, sinks, perSink, processor.name, record);
      for (let s = 0; s < sinks.length; s++) {
        const routed = perSink[s];
        if (routed !== undefined) batches[s].push({ record, effects: routed });
      }
    }
    for (let s = 0; s < sinks.length; s++) {
      if (batches[s].length === 0) continue;
      const { failed } = await sinks[s].apply(batches[s]);
      if (failed.length > 0) throw failed[0].error;
    }
    return produced.flatMap(({ effects }) => effects);
  };
}
