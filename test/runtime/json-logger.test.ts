/**
 * `JsonLogger` writes the line Powertools' Logger writes by default (docs/decisions/logging.md): both are given the
 * same calls under the same environment, and their lines must match key for key and in order, except the
 * differences the decision note names (the timestamp's value, an error's `location`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { JsonLogger, type HandlerLogger } from '../../src/runtime/logging';
import { captureOutput } from '../helpers/output';

const ENVIRONMENT = ['AWS_LAMBDA_LOG_LEVEL', 'POWERTOOLS_LOG_LEVEL', 'LOG_LEVEL', 'AWS_LAMBDA_INITIALIZATION_TYPE', '_X_AMZN_TRACE_ID', 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_LOGGER_SAMPLE_RATE'];

const context = {
  functionName: 'scores',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:scores',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
} as Context;

/** The lines each logger writes for `calls`, built under `environment`; timestamps checked as ISO, then dropped. */
function linesOf(environment: Record<string, string>, calls: (logger: HandlerLogger) => void): { ours: unknown[]; powertools: unknown[] } {
  const saved = Object.fromEntries(ENVIRONMENT.map((name) => [name, process.env[name]]));
  for (const name of ENVIRONMENT) delete process.env[name];
  Object.assign(process.env, environment);
  try {
    const write = (logger: HandlerLogger): unknown[] => {
      const output = captureOutput();
      try {
        calls(logger);
        return output.lines().map(({ timestamp, ...line }) => {
          expect(new Date(String(timestamp)).toISOString()).toBe(timestamp);
          return withoutLocation(line);
        });
      } finally {
        output.restore();
      }
    };
    return { ours: write(new JsonLogger({ serviceName: 'scores' })), powertools: write(new Logger({ serviceName: 'scores' })) };
  } finally {
    for (const name of ENVIRONMENT) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

/** Powertools parses the file and line an error was thrown at out of its stack into `location`; JsonLogger does not. */
function withoutLocation(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLocation);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'location').map(([key, inner]) => [key, withoutLocation(inner)]));
}

/** Lines with their keys in order, so a difference in order shows. */
const ordered = (lines: unknown[]) => lines.map((line) => JSON.stringify(line));

describe('JsonLogger against Powertools\' Logger', () => {
  it('writes the same line, with attributes, before and after the Lambda context is added', () => {
    const { ours, powertools } = linesOf({ AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' }, (logger) => {
      logger.info('Batch processed', { stats: { processed: 3, failed: 0 }, total: 12n, empty: '', nothing: null });
      logger.addContext(context);
      logger.info('Record reported for retry', { recordId: 'shardId-000000000000:4959', position: 0 });
      logger.addContext(context);
      logger.debug('Not written at INFO', {});
      logger.warn('Deadline reached', { notStarted: 2 });
    });
    expect(ours).toHaveLength(3);
    expect(ordered(ours)).toEqual(ordered(powertools));
  });

  it('writes errors as their name, message, stack, cause and own fields', () => {
    const cause = new TypeError('socket hang up');
    const error = Object.assign(new Error('Records could not be captured', { cause }), { code: 'FAULT_CAPTURE_FAILED' });
    const { ours, powertools } = linesOf({}, (logger) => logger.error('Batch failed as a whole', { error }));
    expect(ours).toHaveLength(1);
    expect(ordered(ours)).toEqual(ordered(powertools));
  });

  it('drops attributes named like the line\'s own keys', () => {
    const { ours, powertools } = linesOf({}, (logger) => logger.info('m', { level: 'x', message: 'y', service: 'z', sampling_rate: 1, other: 1 }));
    const message = (lines: unknown[]) => lines.filter((line) => (line as { message?: unknown }).message === 'm');
    expect(message(ours)).toEqual([expect.objectContaining({ level: 'INFO', service: 'scores', other: 1 })]);
    expect(ordered(message(ours))).toEqual(ordered(message(powertools)));
  });

  it.each([
    [{ POWERTOOLS_LOG_LEVEL: 'WARN' }, ['WARN', 'ERROR']],
    [{ POWERTOOLS_LOG_LEVEL: 'DEBUG' }, ['DEBUG', 'INFO', 'WARN', 'ERROR']],
    // Powertools takes only upper-case names, and does not fall back to LOG_LEVEL past a set POWERTOOLS_LOG_LEVEL.
    [{ POWERTOOLS_LOG_LEVEL: 'debug', LOG_LEVEL: 'ERROR' }, ['INFO', 'WARN', 'ERROR']],
    [{ LOG_LEVEL: 'ERROR' }, ['ERROR']],
    [{ POWERTOOLS_LOGGER_SAMPLE_RATE: '1' }, ['DEBUG', 'INFO', 'WARN', 'ERROR']],
    [{ AWS_LAMBDA_LOG_LEVEL: 'ERROR', POWERTOOLS_LOG_LEVEL: 'DEBUG' }, ['ERROR']],
  ])('follows the log level of %j', (environment, levels) => {
    const { ours, powertools } = linesOf(environment, (logger) => {
      logger.debug('d', {});
      logger.info('i', {});
      logger.warn('w', {});
      logger.error('e', {});
    });
    expect(ours.map((line) => (line as { level: string }).level)).toEqual(levels);
    expect(ordered(ours)).toEqual(ordered(powertools.filter((line) => ['d', 'i', 'w', 'e'].includes((line as { message: string }).message))));
  });
});
