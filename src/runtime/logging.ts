/**
 * Logging: shardflow's own structured JSON logger (the line Powertools' Logger writes, without its import cost at
 * cold start; docs/decisions/logging.md), shared by the pipeline and the handler unless the user brings a logger,
 * a Powertools `Logger` for one.
 */
import type { Context } from 'aws-lambda';
import { envFlag } from './metrics';

/** The logging the pipeline and the sinks need; a Powertools `Logger` fits. */
export interface PipelineLogger {
  debug(message: string, attributes: Record<string, unknown>): void;
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** The logging a handler needs: a pipeline logger that takes each invocation's Lambda context. A Powertools `Logger` fits. */
export interface HandlerLogger extends PipelineLogger {
  /** Called at the start of every invocation: later lines carry the invocation's Lambda context keys. */
  addContext(context: Context): void;
}

/** The service name logs and metrics carry unless told otherwise (POWERTOOLS_SERVICE_NAME overrides it). */
export const DEFAULT_SERVICE_NAME = 'shardflow';

export interface LoggerOptions {
  /**
   * The `service` key of every log line.
   * @default process.env.POWERTOOLS_SERVICE_NAME, else 'shardflow'
   */
  readonly serviceName?: string;
}

/** The service name to use: the one given, else POWERTOOLS_SERVICE_NAME, else `DEFAULT_SERVICE_NAME`. */
export function resolveServiceName(serviceName: string | undefined): string {
  return serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME;
}

/** Powertools' level thresholds: a line is written when its level's is at least the logger's. */
const LEVEL_THRESHOLDS: Readonly<Record<string, number>> = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 };

/** Keys of the line itself; attributes of these names are dropped, as Powertools drops them. */
const RESERVED_KEYS = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

/**
 * The level as Powertools reads it: Lambda's advanced logging controls win, else POWERTOOLS_LOG_LEVEL (or, when that
 * is unset or empty, LOG_LEVEL); a value that is not an upper-case level name means INFO.
 */
function configuredThreshold(): number {
  const lambdaLevel = process.env.AWS_LAMBDA_LOG_LEVEL?.trim();
  const controlled = lambdaLevel === 'FATAL' ? 'CRITICAL' : lambdaLevel;
  if (controlled !== undefined && controlled in LEVEL_THRESHOLDS) return LEVEL_THRESHOLDS[controlled]!;
  const level = process.env.POWERTOOLS_LOG_LEVEL?.trim() || process.env.LOG_LEVEL?.trim();
  return LEVEL_THRESHOLDS[level !== undefined && level in LEVEL_THRESHOLDS ? level : 'INFO']!;
}

/** POWERTOOLS_LOGGER_SAMPLE_RATE, a number from 0 to 1; 0 when unset or invalid. */
function configuredSampleRate(): number {
  const rate = Number(process.env.POWERTOOLS_LOGGER_SAMPLE_RATE ?? 0);
  return rate >= 0 && rate <= 1 ? rate : 0;
}

/** The Root of the invocation's X-Ray trace header, where Powertools reads it. */
function xrayTraceId(): string | undefined {
  const header =
    (globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId(): string | undefined } } }).awslambda?.InvokeStore?.getXRayTraceId() ??
    process.env._X_AMZN_TRACE_ID;
  if (header === undefined || header === '') return undefined;
  if (!header.includes('=')) return header;
  for (const field of header.split(';')) {
    const [key, value] = field.split('=');
    if (key === 'Root') return value;
  }
  return undefined;
}

/** The Lambda context keys of a line, in Powertools' names. */
interface ContextKeys {
  readonly cold_start: boolean;
  readonly function_arn: string;
  readonly function_memory_size: string;
  readonly function_name: string;
  readonly function_request_id: string;
  readonly tenant_id: string | undefined;
}

/** Values as Powertools writes them: bigints as digits, errors by name, message and stack, a cycle's repeat left out. */
function jsonReplacer(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function replace(this: unknown, _key: string, value: unknown): unknown {
    if (typeof value === 'bigint') return value.toString();
    const replaced = value instanceof Error ? errorFields(value) : value;
    if (typeof replaced === 'object' && replaced !== null) {
      while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
      if (ancestors.includes(replaced)) return undefined;
      ancestors.push(replaced);
    }
    return replaced;
  };
}

function errorFields(error: Error): Record<string, unknown> {
  const { name, message, stack, cause } = error;
  const fields: Record<string, unknown> = { name, message, stack, cause: cause instanceof Error ? errorFields(cause) : cause };
  for (const key of Object.keys(error)) if (!(key in fields)) fields[key] = (error as unknown as Record<string, unknown>)[key];
  return fields;
}

/**
 * One JSON line per call, the line Powertools' `Logger` writes by default: `level`, `message`, `timestamp`, `service`,
 * the Lambda context keys once `addContext` has run (`cold_start`, `function_arn`, `function_memory_size`,
 * `function_name`, `function_request_id`), `sampling_rate`, `xray_trace_id`, then the attributes; keys with no value
 * (undefined, null, '') left out. DEBUG and INFO go to stdout, WARN and ERROR to stderr, as Powertools' console writes
 * them. The level follows AWS_LAMBDA_LOG_LEVEL, POWERTOOLS_LOG_LEVEL or LOG_LEVEL (default INFO); with
 * POWERTOOLS_LOGGER_SAMPLE_RATE, that share of loggers logs at DEBUG. POWERTOOLS_DEV indents the JSON.
 */
export class JsonLogger implements HandlerLogger {
  private readonly service: string;
  private readonly threshold: number;
  private readonly sampleRate: number;
  private readonly indent: number;
  /** Powertools reports a cold start only on on-demand initialization, and only for the first invocation. */
  private coldStart = process.env.AWS_LAMBDA_INITIALIZATION_TYPE?.trim() === 'on-demand';
  private context: ContextKeys | undefined;

  constructor(options: LoggerOptions = {}) {
    this.service = resolveServiceName(options.serviceName);
    this.sampleRate = configuredSampleRate();
    const sampled = this.sampleRate > 0 && Math.random() <= this.sampleRate;
    this.threshold = sampled ? Math.min(configuredThreshold(), LEVEL_THRESHOLDS.DEBUG!) : configuredThreshold();
    this.indent = envFlag('POWERTOOLS_DEV') === true ? 4 : 0;
  }

  addContext(context: Context): void {
    const coldStart = this.coldStart;
    this.coldStart = false;
    this.context = {
      cold_start: coldStart,
      function_arn: context.invokedFunctionArn,
      function_memory_size: context.memoryLimitInMB,
      function_name: context.functionName,
      function_request_id: context.awsRequestId,
      tenant_id: (context as { tenantId?: string }).tenantId,
    };
  }

  debug(message: string, attributes: Record<string, unknown> = {}): void {
    if (this.threshold <= LEVEL_THRESHOLDS.DEBUG!) process.stdout.write(this.line('DEBUG', message, attributes));
  }

  info(message: string, attributes: Record<string, unknown> = {}): void {
    if (this.threshold <= LEVEL_THRESHOLDS.INFO!) process.stdout.write(this.line('INFO', message, attributes));
  }

  warn(message: string, attributes: Record<string, unknown> = {}): void {
    if (this.threshold <= LEVEL_THRESHOLDS.WARN!) process.stderr.write(this.line('WARN', message, attributes));
  }

  error(message: string, attributes: Record<string, unknown> = {}): void {
    if (this.threshold <= LEVEL_THRESHOLDS.ERROR!) process.stderr.write(this.line('ERROR', message, attributes));
  }

  private line(level: string, message: string, attributes: Record<string, unknown>): string {
    const context = this.context;
    const fields: Record<string, unknown> = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.service,
      cold_start: context?.cold_start,
      function_arn: context?.function_arn,
      function_memory_size: context?.function_memory_size,
      function_name: context?.function_name,
      function_request_id: context?.function_request_id,
      sampling_rate: this.sampleRate,
      xray_trace_id: xrayTraceId(),
      tenant_id: context?.tenant_id,
    };
    for (const key of Object.keys(attributes)) if (!RESERVED_KEYS.has(key)) fields[key] = attributes[key];
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      if (value === undefined || value === null || value === '') delete fields[key];
    }
    return `${JSON.stringify(fields, jsonReplacer(), this.indent)}\n`;
  }
}

/** A structured JSON logger (`JsonLogger`); the log level follows AWS_LAMBDA_LOG_LEVEL / POWERTOOLS_LOG_LEVEL (default INFO). */
export function createLogger(options: LoggerOptions = {}): JsonLogger {
  return new JsonLogger(options);
}

let shared: JsonLogger | undefined;

/** The logger pipelines and handlers use when none is given, created on first use. */
export function defaultLogger(): JsonLogger {
  shared ??= createLogger();
  return shared;
}

/**
 * Forwards to `defaultLogger()`, creating it only when something is logged: pipelines built without a logger
 * log their record failures here, through the same logger the handler enriches with the Lambda context.
 */
export const sharedLogger: PipelineLogger = {
  debug: (message, attributes) => defaultLogger().debug(message, attributes),
  info: (message, attributes) => defaultLogger().info(message, attributes),
  warn: (message, attributes) => defaultLogger().warn(message, attributes),
  error: (message, attributes) => defaultLogger().error(message, attributes),
};

/**
 * The logger of a pipeline built without one: `sharedLogger` until the handler that runs the pipeline lends it its
 * own, so the pipeline's lines carry the handler's service name.
 */
export class LentLogger implements PipelineLogger {
  target: PipelineLogger = sharedLogger;

  debug(message: string, attributes: Record<string, unknown>): void {
    this.target.debug(message, attributes);
  }

  info(message: string, attributes: Record<string, unknown>): void {
    this.target.info(message, attributes);
  }

  warn(message: string, attributes: Record<string, unknown>): void {
    this.target.warn(message, attributes);
  }

  error(message: string, attributes: Record<string, unknown>): void {
    this.target.error(message, attributes);
  }
}
