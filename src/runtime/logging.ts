/**
 * Logger glue: one Powertools Logger (structured JSON lines, Lambda context keys) shared by the pipeline and
 * the handler unless the user brings their own.
 */
import { Logger } from '@aws-lambda-powertools/logger';

/** The logging the pipeline and the sinks need; a Powertools `Logger` fits. */
export interface PipelineLogger {
  debug(message: string, attributes: Record<string, unknown>): void;
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
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

/** A Powertools Logger; the log level follows POWERTOOLS_LOG_LEVEL / AWS_LAMBDA_LOG_LEVEL (default INFO). */
export function createLogger(options: LoggerOptions = {}): Logger {
  return new Logger({ serviceName: resolveServiceName(options.serviceName) });
}

let shared: Logger | undefined;

/** The logger pipelines and handlers use when none is given, created on first use. */
export function defaultLogger(): Logger {
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
