/**
 * A fake Lambda `Context` for local invocations: the fields handlers and Powertools read, and a
 * `getRemainingTimeInMillis` that counts down from the configured function timeout.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LocalContextOptions {
  readonly functionName: string;
  readonly region: string;
  /** The function timeout the countdown starts from. */
  readonly timeoutMs: number;
  /** @default a random UUID */
  readonly requestId?: string;
  /** @default Date.now() */
  readonly startedAt?: number;
}

/** The account id local ARNs use (the one kinesalite and DynamoDB Local use too). */
export const LOCAL_ACCOUNT_ID = '000000000000';

export function localFunctionArn(functionName: string, region: string): string {
  return `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${functionName}`;
}

export function createLocalContext(options: LocalContextOptions): Context {
  const startedAt = options.startedAt ?? Date.now();
  const deadline = startedAt + options.timeoutMs;
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not supported by the local runner; return a value from the handler instead.`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(options.functionName, options.region),
    memoryLimitInMB: '1024',
    awsRequestId: options.requestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
