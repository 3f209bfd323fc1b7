/**
 * Backoff and AWS error classification shared by the sinks. Classification follows the platform contract
 * (stream-semantics.md, "DynamoDB writes for idempotent sinks"): throttling, 5xx and network failures are worth
 * another attempt; validation, missing tables and access errors are not. Anything unknown is retried, because
 * losing a record is worse than retrying one.
 */
import { ErrorCode, errorMessage, isShardflowError, ShardflowError } from '../runtime/errors';
import { checkInteger, checkNumber, resolveOptions } from '../runtime/options';

/** Capped exponential backoff with full jitter. */
export interface BackoffOptions {
  /**
   * Attempts in total, the first included. When they are used up the records are reported as failed (retryable),
   * so Lambda re-delivers them; the sink never loops forever inside one invocation.
   * @default 6
   */
  readonly maxAttempts?: number;
  /**
   * Delay cap of the first retry in milliseconds; it doubles with every further retry.
   * @default 50
   */
  readonly baseDelayMs?: number;
  /**
   * Upper bound of a single delay in milliseconds.
   * @default 2000
   */
  readonly maxDelayMs?: number;
}

const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  maxAttempts: 6,
  baseDelayMs: 50,
  maxDelayMs: 2000,
};

/** Fills in defaults and checks the numbers once, at construction. */
export function resolveBackoff(options: BackoffOptions | undefined, owner: string): Required<BackoffOptions> {
  const component = `${owner} (backoff)`;
  const resolved = resolveOptions(component, options, DEFAULT_BACKOFF);
  checkInteger(component, 'maxAttempts', resolved.maxAttempts, 1);
  checkNumber(component, 'baseDelayMs', resolved.baseDelayMs, 0, 'milliseconds');
  checkNumber(component, 'maxDelayMs', resolved.maxDelayMs, 0, 'milliseconds');
  return resolved;
}

/**
 * Delay before retry number `retry` (1 for the first retry): uniform in [0, min(maxDelay, base * 2^(retry-1))].
 * Full jitter spreads concurrent appliers that collided on the same item apart.
 */
export function backoffDelay(retry: number, options: Required<BackoffOptions>, random: () => number = Math.random): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * cap);
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** Service error names a later attempt can get past. */
const RETRYABLE_NAMES: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
  'Throttling',
  'LimitExceededException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TransactionConflictException',
  // Another call with the same ClientRequestToken is still running; once it finishes the retry is a no-op.
  'TransactionInProgressException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * Service error names that are about the deployment, not the request's data: the table, the permission or the
 * credentials are wrong for every record alike.
 */
const DEPLOYMENT_NAMES: ReadonlySet<string> = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'CredentialsProviderError',
]);

/** Network error codes of an endpoint that does not exist or does not listen: nothing was sent. */
const UNKNOWN_ENDPOINT_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED']);

/** Service error names no retry can fix: the request itself is wrong, or the table or the permission is. */
const PERMANENT_NAMES: ReadonlySet<string> = new Set([
  'ValidationException',
  'ResourceNotFoundException',
  'AccessDeniedException',
  'ConditionalCheckFailedException',
  'UnrecognizedClientException',
  'IdempotentParameterMismatchException',
  'ItemCollectionSizeLimitExceededException',
  'SerializationException',
]);

interface SdkErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};
}

/** Whether another attempt of the same request can succeed. */
export function isRetryableAwsError(error: unknown): boolean {
  if (isShardflowError(error)) return error.retryable;
  const { name, $fault, $retryable, $metadata } = shape(error);
  if (typeof name === 'string') {
    if (RETRYABLE_NAMES.has(name)) return true;
    if (PERMANENT_NAMES.has(name)) return false;
  }
  if (typeof $retryable === 'object' && $retryable !== null) return true;
  const status = $metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 500 || status === 429;
  if ($fault === 'client') return false;
  // No HTTP status: the request never got an answer (socket reset, timeout, DNS). It may or may not have
  // committed, which is exactly the case idempotent writes exist for.
  return true;
}

/** Whether an AWS error says the deployment is wrong (table, permission, endpoint, credentials), not the request. */
export function isDeploymentAwsError(error: unknown): boolean {
  const { name, code } = shape(error);
  return (typeof name === 'string' && DEPLOYMENT_NAMES.has(name)) || (typeof code === 'string' && UNKNOWN_ENDPOINT_CODES.has(code));
}

/**
 * The one error for a deployment problem of `component` writing to `target`: `DEPLOYMENT_ERROR`, which fails the
 * whole batch for retry instead of turning every record into a fault.
 */
export function deploymentError(component: string, target: string, error: unknown): ShardflowError {
  return new ShardflowError(
    ErrorCode.DeploymentError,
    `${component} cannot write to ${target} (${awsErrorName(error)}: ${errorMessage(error)}). This is the deployment, ` +
      'not the records: a missing table, a missing permission, a wrong endpoint or invalid credentials. The whole ' +
      'batch fails and is retried.',
    { cause: error },
  );
}

/** The AWS error's name, for messages and metrics. */
export function awsErrorName(error: unknown): string {
  const { name, code } = shape(error);
  if (typeof name === 'string' && name !== 'Error') return name;
  if (typeof code === 'string') return code;
  return 'Error';
}

/**
 * Wraps a failure of a sink into a `ShardflowError` naming the record: `SINK_TRANSIENT` when a later delivery can
 * succeed, `SINK_PERMANENT` otherwise.
 */
export function sinkError(sink: string, recordId: string, error: unknown, retryable: boolean): ShardflowError {
  const reason = `${awsErrorName(error)}: ${errorMessage(error)}`;
  return new ShardflowError(
    retryable ? ErrorCode.SinkTransient : ErrorCode.SinkPermanent,
    retryable
      ? `Sink ${sink} could not apply the effects of record ${recordId} yet (${reason}); a later delivery can apply them.`
      : `Sink ${sink} refused the effects of record ${recordId} (${reason}); retrying cannot help.`,
    { recordId, cause: error },
  );
}
