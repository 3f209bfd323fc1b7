/**
 * A sink for `LogEffect`s: one structured line per effect through a JSON logger (shardflow's or a Powertools
 * `Logger`), with the record's provenance next to the processor's fields. Logging is at-least-once: a re-delivered
 * record is logged again, with the same recordId, so duplicates can be told apart downstream.
 */
import { ErrorCode, errorMessage, ShardflowError } from '../runtime/errors';
import { MAX_RENDERED_DEPTH, jsonText, nestsDeeperThan } from '../runtime/json-text';
import { defaultLogger } from '../runtime/logging';
import { checkName, resolveOptions } from '../runtime/options';
import type { StreamRecord } from '../runtime/model';
import {
  LogLevel,
  type EffectBase,
  type LogEffect,
  type RecordEffects,
  type RecordFailure,
  type Sink,
  type SinkResult,
  type SinkSession,
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
   * @default the shared JSON logger of `defaultLogger()`
   * @example { logger: new Logger({ serviceName: 'checkout' }) }
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

  open(): SinkSession<LogEffect> {
    return new LogSession(this.name, this.logger ?? defaultLogger());
  }

  async apply(batch: readonly RecordEffects<LogEffect>[]): Promise<SinkResult> {
    const session = this.open();
    for (const { record, effects } of batch) session.add(record, effects);
    return session.flush();
  }
}

interface Line {
  readonly level: LogLevel;
  readonly message: string;
  /** The line's attributes as JSON text. */
  readonly attributes: string;
}

/** Values as Powertools' logger writes them: bigints as digits, errors by name, message and stack. */
function loggable(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/**
 * One batch's lines, written at `flush`. A line is kept as JSON text, not as the effect's objects: a record
 * logger's rendering of a JSON payload costs several times its text as objects, and a batch's lines all wait
 * for the flush.
 */
class LogSession implements SinkSession<LogEffect> {
  private readonly records: { readonly recordId: string; readonly lines: readonly Line[] }[] = [];
  private readonly failed: RecordFailure[] = [];

  constructor(
    private readonly name: string,
    private readonly logger: LogSinkLogger,
  ) {}

  add(record: StreamRecord, effects: readonly LogEffect[]): void {
    const tooDeep = effects.find((effect) => nestsDeeperThan(effect.fields, MAX_RENDERED_DEPTH));
    if (tooDeep !== undefined) {
      // The logger's JSON.stringify would overflow the stack on every delivery: a permanent failure, not a retry.
      this.failed.push({
        recordId: record.recordId,
        error: new ShardflowError(
          ErrorCode.NestingTooDeep,
          `Sink ${this.name} cannot log record ${record.recordId}: the fields of its log line "${tooDeep.message.slice(0, 80)}" ` +
            `nest deeper than ${MAX_RENDERED_DEPTH} levels.`,
          { recordId: record.recordId },
        ),
      });
      return;
    }
    const lines = effects.map((effect): Line => {
      const { source, streamArn, shardId, partitionKey, sequenceNumber, subSequenceNumber } = effect.provenance;
      const attributes = {
        ...effect.fields,
        record: { recordId: record.recordId, source, streamArn, shardId, partitionKey, sequenceNumber, subSequenceNumber },
      };
      return { level: effect.level, message: effect.message, attributes: jsonText(attributes, { convert: loggable }) };
    });
    this.records.push({ recordId: record.recordId, lines });
  }

  async flush(): Promise<SinkResult> {
    const logger = this.logger;
    for (const { recordId, lines } of this.records) {
      try {
        for (const { level, message, attributes } of lines) {
          const parsed = JSON.parse(attributes) as Record<string, unknown>;
          if (level === LogLevel.Debug) logger.debug(message, parsed);
          else if (level === LogLevel.Warn) logger.warn(message, parsed);
          else logger.info(message, parsed);
        }
      } catch (error) {
        // A logger that throws (e.g. its output stream closed for a moment) fails the record, never the batch.
        this.failed.push({
          recordId,
          error: new ShardflowError(ErrorCode.SinkTransient, `Sink ${this.name} could not log record ${recordId} (${errorMessage(error)}).`, {
            recordId,
            cause: error,
          }),
        });
      }
    }
    return { failed: this.failed };
  }
}
