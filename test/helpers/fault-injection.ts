/**
 * Fault injection inside the real SDK request path: a NodeHttpHandler that, for chosen requests, fails before
 * sending, sends and then loses the response, answers with throttling, or makes DynamoDB process only part of a
 * BatchWriteItem and reports the rest as UnprocessedItems, exactly as the service would. Nothing is mocked: every
 * request that "happens" goes to DynamoDB Local.
 */
import { Readable } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { localClientConfig } from '../../src/local/clients';

export const Fault = {
  /** Send normally. */
  Pass: 'pass',
  /** Fail with a connection reset before anything reaches DynamoDB: nothing commits. */
  FailBefore: 'fail-before',
  /** Send, let DynamoDB commit, then fail with a connection reset as if the response was lost. */
  LoseResponse: 'lose-response',
  /** Answer 400 ProvisionedThroughputExceededException without sending. */
  Throttle: 'throttle',
  /**
   * TransactWriteItems only: answer TransactionCanceledException, its last action in conflict with another
   * transaction, without sending (DynamoDB Local serializes transactions, so real conflicts do not happen there).
   */
  Conflict: 'conflict',
  /** TransactWriteItems only: answer TransactionCanceledException with no reason (every action `None`), without sending. */
  CancelWithoutReason: 'cancel-without-reason',
  /** BatchWriteItem only: DynamoDB gets the first half of the items; the rest come back as UnprocessedItems. */
  PartialBatch: 'partial-batch',
} as const;
export type Fault = (typeof Fault)[keyof typeof Fault];

type Handle = NodeHttpHandler['handle'];
type Request = Parameters<Handle>[0];
type Response = Awaited<ReturnType<Handle>>['response'];

interface SentRequest {
  /** The DynamoDB operation, e.g. `TransactWriteItems`. */
  readonly operation: string;
  readonly fault: Fault;
}

/**
 * Decides the fault of each request. `plan(operation, index)` gets the operation name and the number of earlier
 * requests of that operation through this handler.
 */
type FaultPlan = (operation: string, index: number) => Fault;

export class FaultInjectingHandler extends NodeHttpHandler {
  readonly sent: SentRequest[] = [];
  private readonly counts = new Map<string, number>();

  constructor(private plan: FaultPlan = () => Fault.Pass) {
    super({ connectionTimeout: 5000, requestTimeout: 30000 });
  }

  /** Replaces the plan (e.g. a queue of faults for the next requests). */
  setPlan(plan: FaultPlan): void {
    this.plan = plan;
  }

  /** Faults for the next requests of one operation, in order; everything else passes. */
  queue(operation: string, faults: readonly Fault[]): void {
    const pending = [...faults];
    this.plan = (name) => (name === operation ? (pending.shift() ?? Fault.Pass) : Fault.Pass);
  }

  count(operation: string, fault?: Fault): number {
    return this.sent.filter((request) => request.operation === operation && (fault === undefined || request.fault === fault)).length;
  }

  override async handle(request: Request, options?: Parameters<Handle>[1]): ReturnType<Handle> {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    const index = this.counts.get(operation) ?? 0;
    this.counts.set(operation, index + 1);
    const fault = this.plan(operation, index);
    this.sent.push({ operation, fault });
    switch (fault) {
      case Fault.Pass:
        return super.handle(request, options);
      case Fault.FailBefore:
        throw connectionReset('before the request was sent');
      case Fault.LoseResponse: {
        const { response } = await super.handle(request, options);
        // Read the whole answer so DynamoDB has certainly finished, then pretend it never arrived.
        await readBody(response);
        throw connectionReset('after the request was sent, before the response arrived');
      }
      case Fault.Throttle:
        return {
          response: jsonResponse(400, {
            __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
            message: 'The level of configured provisioned throughput for the table was exceeded (injected).',
          }),
        };
      case Fault.Conflict:
        return cancellation(request, { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item (injected).' });
      case Fault.CancelWithoutReason:
        return cancellation(request, { Code: 'None' });
      case Fault.PartialBatch:
        return this.partialBatch(request, options);
    }
  }

  private async partialBatch(request: Request, options?: Parameters<Handle>[1]): ReturnType<Handle> {
    const body = JSON.parse(bodyText(request)) as { RequestItems: Record<string, unknown[]> };
    const kept: Record<string, unknown[]> = {};
    const unprocessed: Record<string, unknown[]> = {};
    for (const [table, writes] of Object.entries(body.RequestItems)) {
      const half = Math.ceil(writes.length / 2);
      kept[table] = writes.slice(0, half);
      if (writes.length > half) unprocessed[table] = writes.slice(half);
    }
    const text = Buffer.from(JSON.stringify({ ...body, RequestItems: kept }), 'utf8');
    request.body = text;
    request.headers['content-length'] = String(text.length);
    const { response } = await super.handle(request, options);
    const answer = JSON.parse((await readBody(response)) || '{}') as Record<string, unknown>;
    return { response: jsonResponse(response.statusCode, { ...answer, UnprocessedItems: unprocessed }) };
  }
}

/** `localClientConfig` with a fault-injecting handler and no SDK-level retries, so the sink's own retries show. */
export function faultyClientConfig(endpoint: string, handler: FaultInjectingHandler) {
  return { ...localClientConfig(endpoint), requestHandler: handler, maxAttempts: 1 };
}

/** A TransactionCanceledException whose last action has `last` as its reason and every other one `None`. */
function cancellation(request: Request, last: { Code: string; Message?: string }): { response: Response } {
  const { TransactItems } = JSON.parse(bodyText(request)) as { TransactItems: unknown[] };
  const reasons = TransactItems.map((_, index) => (index === TransactItems.length - 1 ? last : { Code: 'None' }));
  return {
    response: jsonResponse(400, {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons
        .map((reason) => reason.Code)
        .join(', ')}]`,
      CancellationReasons: reasons,
    }),
  };
}

function bodyText(request: Request): string {
  const body: unknown = request.body;
  // The SDK hands over JSON bodies as bytes; decoding them directly avoids its string-conversion warning.
  return typeof body === 'string' ? body : new TextDecoder().decode(body as Uint8Array);
}

function connectionReset(when: string): Error {
  return Object.assign(new Error(`Injected connection reset ${when}.`), { code: 'ECONNRESET', name: 'Error' });
}

async function readBody(response: Response): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response.body as AsyncIterable<Buffer | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function jsonResponse(statusCode: number, body: unknown): Response {
  const text = JSON.stringify(body);
  return {
    statusCode,
    reason: undefined,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': String(Buffer.byteLength(text)),
      'x-amzn-requestid': 'injected',
    },
    body: Readable.from([Buffer.from(text)]),
  };
}
