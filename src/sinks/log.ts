/**
 * A sink for `LogEffect`s: one structured line per effect through a Powertools Logger, with the record's
 * provenance next to the processor's fields. Logging is at-least-once: a re-delivered record is logged again,
 * with the same recordId, so duplicates can be told apart downstream.
 */
import { ErrorCode, errorMessage, ShardflowError } from '../runtime/errors';
import { MAX_RENDERED_DEPTH, nestsDeeperThan } from '../runtime/json-text';
import { defaultLogger } from '../runtime/logging';
import { checkName, resolveOptions } from '../runtime/options';
import {
  LogLevel,
  type EffectBase,
  type LogEffect,
  type RecordEffects,
  type RecordFailure,
  type Sink,
  type SinkResult,
} from '../runtime/types';

/** What the sink needs from a logger; a Powertools `Logger` fits. */
export interface LogSinkLogger {
  debug(message: string, attributes: Record<string, unknown>): void;
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
}

export interface LogSinkOptions {
  /**
   * Where lines go.
   * @default the shared Powertools logger of `defaultLogger()`
   * @example { logger: new Logger({ serviceName: 'orders' }) }
   */
  readonly logger?: LogSinkLogger;
  /**
   * Name in logs and errors.
   * @default 'log'
   */
  readonly name?: string;
}

const COMPONENT = 'LogSink';

const DEFAULTS = { logger: undefined as LogSinkLogger | undefined, name: 'log' } satisfies LogSinkOptions;

export class LogSink implements Sink<LogEffect> {
  readonly name: string;
  private readonly logger: LogSinkLogger | undefined;

  constructor(options: LogSinkOptions = {}) {
    const settings = resolveOptions(COMPONENT, options, DEFAULTS);
    checkName(COMPONENT, 'name', settings.name);
    this.name = settings.name;
    this.logger = settings.logger;
  }

  accepts(effect: EffectBase): effect is LogEffect {
    return effect.type === 'log';
  }

  async apply(batch: readonly RecordEffects<LogEffect>[]): Promise<SinkResult> {
    const logger = this.logger ?? defaultLogger();
    const failed: RecordFailure[] = [];
    for (const { record, effects } of batch) {
      const tooDeep = effects.find((effect) => nestsDeeperThan(effect.fields, MAX_RENDERED_DEPTH));
      if (tooDeep !== undefined) {
        // The logger's JSON.stringify would overflow the stack on every delivery: a permanent failure, not a retry.
        failed.push({
          recordId: record.recordId,
          error: new ShardflowError(
            ErrorCode.NestingTooDeep,
            `Sink ${this.name} cannot log record ${record.recordId}: the fields of its log line "${tooDeep.message.slice(0, 80)}" ` +
              `nest deeper than ${MAX_RENDERED_DEPTH} levels.`,
            { recordId: record.recordId },
          ),
        });
        continue;
      }
      try {
        for (const effect of effects) {
          const { source, streamArn, shardId, partitionKey, sequenceNumber, subSequenceNumber } = effect.provenance;
          const attributes = {
            ...effect.fields,
            record: { recordId: record.recordId, source, streamArn, shardId, partitionKey, sequenceNumber, subSequenceNumber },
          };
          switch (effect.level) {
            case LogLevel.Debug:
              logger.debug(effect.message, attributes);
              break;
            case LogLevel.Warn:
              logger.warn(effect.message, attributes);
              break;
            default:
              logger.info(effect.message, attributes);
          }
        }
      } catch (error) {
        // A logger that throws (e.g. its output stream closed for a moment) fails the record, never the batch.
        failed.push({
          recordId: record.recordId,
          error: new ShardflowError(
            ErrorCode.SinkTransient,
            `Sink ${this.name} could not log record ${record.recordId} (${errorMessage(error)}).`,
            { recordId: record.recordId, cause: error },
          ),
        });
      }
    }
    return { failed };
  }
}
