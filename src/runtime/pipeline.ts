/**
 * `definePipeline`: processors, sinks and a fault sink checked once and bound into a `Pipeline` that runs
 * batches (`BatchRun`). See docs/decisions/batch-loop.md for why this is our own loop rather than Powertools'
 * per-record loop.
 */
import type { Context } from 'aws-lambda';
import type { BatchOutcome } from './batch-outcome';
import { BatchRun, type PipelineSetup } from './batch-run';
import { LentLogger, type PipelineLogger } from './logging';
import { checkOptionKeys, optionsError } from './options';
import { PermanentErrorAction, resolvePipelineOptions, type PipelineOptions } from './pipeline-options';
import { compileRouter } from './router';
import type { AnyProcessor, Effect, EffectBase, FaultSink, Sink, StreamEvent } from './types';

export interface PipelineConfig<E extends EffectBase = Effect> {
  /** Processors, with or without a schema (`defineProcessor`). */
  readonly processors: readonly AnyProcessor<E>[];
  readonly sinks: readonly Sink<E>[];
  /** Where permanently failing records are kept. Without one, they are reported for retry. */
  readonly faultSink?: FaultSink;
  readonly options?: PipelineOptions;
}

export interface Pipeline {
  /**
   * Runs one delivered batch. Record failures never throw; a thrown error means the whole batch must be retried
   * (a bug, an event that is not a stream event, or a fault that could be neither captured nor reported).
   */
  run(event: StreamEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<BatchOutcome>;
}

const COMPONENT = 'definePipeline';

/**
 * Builds a pipeline. Options, processors' selectors and sinks are validated here, once, with errors that name
 * the offending option; `run` does no configuration checks.
 */
export function definePipeline<E extends EffectBase = Effect>(config: PipelineConfig<E>): Pipeline {
  checkOptionKeys(COMPONENT, config, ['processors', 'sinks', 'faultSink', 'options']);
  if (!Array.isArray(config.processors)) throw optionsError(COMPONENT, 'option "processors" must be an array');
  if (!Array.isArray(config.sinks)) throw optionsError(COMPONENT, 'option "sinks" must be an array');
  const sinkNames = new Set<string>();
  for (const sink of config.sinks) {
    if (sink === null || typeof sink !== 'object' || typeof sink.apply !== 'function' || typeof sink.accepts !== 'function') {
      throw optionsError(COMPONENT, 'every sink needs accepts() and apply()');
    }
    if (typeof sink.name !== 'string' || sink.name.length === 0) throw optionsError(COMPONENT, 'every sink needs a non-empty name');
    if (sink.open !== undefined && typeof sink.open !== 'function') throw optionsError(COMPONENT, `sink "${sink.name}" has an open that is not a function`);
    if (sinkNames.has(sink.name)) throw optionsError(COMPONENT, `two sinks are named "${sink.name}"`);
    sinkNames.add(sink.name);
  }
  // A fault names its stage, and a redrive hands a record whose faults all name sinks to those sinks only.
  for (const processor of config.processors as readonly { name?: unknown }[]) {
    if (typeof processor?.name === 'string' && sinkNames.has(processor.name)) {
      throw optionsError(COMPONENT, `processor and sink are both named "${processor.name}"; a fault's stage must name one of them`);
    }
  }
  const faultSink = config.faultSink;
  if (faultSink !== undefined && (faultSink === null || typeof faultSink.capture !== 'function')) {
    throw optionsError(COMPONENT, 'option "faultSink" needs a capture() method');
  }
  const { deadlineMarginMs, onPermanentError, inflationBudgetBytes, logger } = resolvePipelineOptions(config.options);
  const lent = config.options?.logger === undefined ? new LentLogger() : undefined;
  const setup: PipelineSetup<E> = {
    router: compileRouter(config.processors),
    sinks: config.sinks,
    sinkNames,
    faultSink,
    // Without a fault sink there is nowhere to keep a record: only a retry keeps it.
    permanentAction:
      faultSink === undefined
        ? PermanentErrorAction.Retry
        : typeof onPermanentError === 'string'
          ? onPermanentError
          : (failure) => {
              const action = onPermanentError(failure);
              if (action !== PermanentErrorAction.Capture && action !== PermanentErrorAction.Retry) {
                throw optionsError(
                  COMPONENT,
                  `onPermanentError returned ${String(action)} for record at position ${failure.position}; expected "capture" or "retry"`,
                );
              }
              return action;
            },
    deadlineMarginMs,
    stopAtFirstFailure: config.sinks.some((sink) => sink.stopAtFirstFailure === true),
    inflationBudgetBytes,
    logger: lent ?? logger,
  };
  const pipeline: Pipeline = {
    async run(event, context) {
      return new BatchRun(setup, event, context).run();
    },
  };
  if (lent !== undefined) lentLoggers.set(pipeline, lent);
  return pipeline;
}

/** The loggers of pipelines built without one, which their handler may replace. */
const lentLoggers = new WeakMap<Pipeline, LentLogger>();

/**
 * Makes a pipeline built without a logger log through `logger` from now on (a pipeline given a logger keeps it).
 * `createHandler` calls it, so a plain `definePipeline` + `createHandler({ serviceName })` logs under one service name.
 */
export function lendLogger(pipeline: Pipeline, logger: PipelineLogger): void {
  const lent = lentLoggers.get(pipeline);
  if (lent !== undefined) lent.target = logger;
}
