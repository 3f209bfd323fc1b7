/**
 * Emulation of a Lambda event source mapping for Kinesis and DynamoDB Streams, generic over a `StreamHandler`:
 * partial batch responses (re-deliver from the lowest failed sequence number), retries, BisectBatchOnFunctionError,
 * a function timeout, and the record Lambda sends to an on-failure destination when retries run out.
 * See docs/local-runner.md for the contract this follows.
 */
import { randomUUID } from 'node:crypto';
import type { StreamEvent, StreamHandler } from '../runtime/types';
import { errorMessage } from '../runtime/errors';
import { jsonText } from '../runtime/json-text';
import { LOCAL_INVOCATION, type LocalInvocation } from '../runtime/local-invocation';
import { compareSequenceNumbers } from '../runtime/model';
import { checkFunction, checkInteger, checkName, checkNumber, resolveOptions } from '../runtime/options';
import type { RecordFilter } from './event-filter';
import { createLocalContext, localFunctionArn } from './lambda-context';
import { recordPosition, type LambdaStreamRecord } from './lambda-records';

export interface EventSourceMappingOptions {
  /**
   * Retries of a failed batch (MaximumRetryAttempts) before its records go to the on-failure destination.
   * Lambda's default is -1 (retry until the records expire); locally that would block a shard forever.
   * @default 3
   */
  readonly maxRetries?: number;
  /**
   * BisectBatchOnFunctionError: split a batch whose invocation failed as a whole in two and retry the halves.
   * Splitting does not consume retry attempts.
   * @default false
   */
  readonly bisectBatchOnFunctionError?: boolean;
  /**
   * The function timeout: `getRemainingTimeInMillis()` counts down from it and an invocation that takes longer
   * fails as a whole, like a Lambda timeout.
   * @default 60000
   */
  readonly timeoutMs?: number;
  /** Name used in the fake context and in the on-failure record's `functionArn`. @default 'shardflow-local' */
  readonly functionName?: string;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  readonly region?: string;
  /** Lambda's event filtering: records it rejects are dropped before the invocation (see event-filter.ts). @default none */
  readonly filter?: RecordFilter;
}

const COMPONENT = 'EventSourceMapping';

const DEFAULTS = {
  maxRetries: 3,
  bisectBatchOnFunctionError: false,
  timeoutMs: 60_000,
  functionName: 'shardflow-local',
  region: undefined as string | undefined,
  filter: undefined as RecordFilter | undefined,
} satisfies EventSourceMappingOptions;

export const FailureCondition = {
  RetryAttemptsExhausted: 'RetryAttemptsExhausted',
} as const;
export type FailureCondition = (typeof FailureCondition)[keyof typeof FailureCondition];

/** Where the failed records are, without their data (Lambda does not send the data to the destination). */
export interface OnFailureBatchInfo {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  /** ISO 8601. */
  readonly approximateArrivalOfFirstRecord: string;
  /** ISO 8601. */
  readonly approximateArrivalOfLastRecord: string;
  readonly batchSize: number;
  readonly streamArn: string;
}

export interface OnFailureRecordBase {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: FailureCondition;
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: string;
    /** `Unhandled` when the last invocation threw or timed out; absent when it returned a partial batch response. */
    readonly functionError?: string;
  };
  readonly version: '1.0';
  /** ISO 8601. */
  readonly timestamp: string;
}

/** The record Lambda sends to an on-failure destination (SQS, SNS, S3) for a Kinesis or DynamoDB batch. */
export type OnFailureRecord =
  | (OnFailureRecordBase & { readonly KinesisBatchInfo: OnFailureBatchInfo })
  | (OnFailureRecordBase & { readonly DDBStreamBatchInfo: OnFailureBatchInfo });

/** The batch an on-failure record describes, whichever stream kind it came from. */
export function batchInfo(record: OnFailureRecord): OnFailureBatchInfo {
  return 'KinesisBatchInfo' in record ? record.KinesisBatchInfo : record.DDBStreamBatchInfo;
}

export const InvocationOutcome = {
  Success: 'success',
  /** The handler returned batchItemFailures. */
  Partial: 'partial',
  /** The handler threw, timed out, or returned an invalid response: the whole batch failed. */
  Error: 'error',
} as const;
export type InvocationOutcome = (typeof InvocationOutcome)[keyof typeof InvocationOutcome];

export interface InvocationReport {
  readonly requestId: string;
  readonly records: number;
  readonly outcome: InvocationOutcome;
  /** How many identifiers the handler returned. */
  readonly batchItemFailures: number;
  /** Why the whole batch failed (outcome `error`). */
  readonly error?: string;
}

export interface DeliveryOptions {
  /** The shard the batch came from. Kinesis records name it in eventID; DynamoDB stream records do not. */
  readonly shardId?: string;
  /** Called after every invocation (logging, progress, statistics). */
  readonly onInvocation?: (report: InvocationReport) => void;
  /** Called with each on-failure record before the mapping moves past its records. */
  readonly onFailure?: (record: OnFailureRecord) => Promise<void> | void;
  /**
   * Called whenever every record up to and including `sequenceNumber` is done (applied, or sent to the
   * on-failure destination), like Lambda's checkpoint. Awaited before the mapping goes on.
   */
  readonly onCheckpoint?: (sequenceNumber: string) => Promise<void> | void;
  /** Put on every invocation's context: a handler made by `createHandler` reports its batches to it. */
  readonly local?: LocalInvocation;
}

export interface DeliveryResult {
  readonly records: number;
  /** Records the mapping's filter dropped: never invoked, done all the same. */
  readonly filtered: number;
  readonly invocations: number;
  /** Identifiers returned in partial batch responses, summed over invocations. */
  readonly batchItemFailures: number;
  /** Invocations that failed as a whole (thrown error, timeout, invalid response). */
  readonly functionErrors: number;
  readonly onFailure: readonly OnFailureRecord[];
}

/** Totals over delivered batches (the poller's stats, the replay summary's counts). */
export interface DeliveryTotals {
  readonly batches: number;
  readonly records: number;
  /** Records the mappings' filters dropped. */
  readonly filtered: number;
  readonly invocations: number;
  readonly batchItemFailures: number;
  readonly functionErrors: number;
  /** On-failure records written. */
  readonly onFailure: number;
}

export const NO_DELIVERIES: DeliveryTotals = { batches: 0, records: 0, filtered: 0, invocations: 0, batchItemFailures: 0, functionErrors: 0, onFailure: 0 };

export function addDelivery(totals: DeliveryTotals, result: DeliveryResult): DeliveryTotals {
  return {
    batches: totals.batches + 1,
    records: totals.records + result.records,
    filtered: totals.filtered + result.filtered,
    invocations: totals.invocations + result.invocations,
    batchItemFailures: totals.batchItemFailures + result.batchItemFailures,
    functionErrors: totals.functionErrors + result.functionErrors,
    onFailure: totals.onFailure + result.onFailure.length,
  };
}

interface WorkItem {
  readonly records: readonly LambdaStreamRecord[];
  /** Retry attempts already used by these records. */
  readonly attempts: number;
  /** Invocations that included these records so far. */
  readonly invokeCount: number;
}

type InvocationResult =
  | { readonly outcome: typeof InvocationOutcome.Success }
  | { readonly outcome: typeof InvocationOutcome.Partial; readonly failedIndex: number; readonly identifiers: number }
  | { readonly outcome: typeof InvocationOutcome.Error; readonly message: string };

/** Delivers batches to one handler the way a Lambda event source mapping does, one batch at a time. */
export class EventSourceMapping {
  private readonly handler: StreamHandler;
  private readonly maxRetries: number;
  private readonly bisect: boolean;
  private readonly timeoutMs: number;
  private readonly functionName: string;
  private readonly region: string;
  private readonly filter: RecordFilter | undefined;

  constructor(handler: StreamHandler, options: EventSourceMappingOptions = {}) {
    const settings = resolveOptions(COMPONENT, options, DEFAULTS);
    checkInteger(COMPONENT, 'maxRetries', settings.maxRetries, 0, 10_000);
    checkNumber(COMPONENT, 'timeoutMs', settings.timeoutMs, 1, 'milliseconds');
    checkName(COMPONENT, 'functionName', settings.functionName);
    this.handler = handler;
    this.maxRetries = settings.maxRetries;
    this.bisect = settings.bisectBatchOnFunctionError;
    this.timeoutMs = settings.timeoutMs;
    this.functionName = settings.functionName;
    this.region = settings.region ?? process.env.AWS_REGION ?? 'us-east-1';
    if (settings.filter !== undefined) checkFunction(COMPONENT, 'filter', settings.filter);
    this.filter = settings.filter;
  }

  /**
   * Delivers one batch (as it came from a shard) until every record is done: applied, or reported in an
   * on-failure record after the retries ran out.
   */
  async deliver(event: StreamEvent, options: DeliveryOptions = {}): Promise<DeliveryResult> {
    const delivered: readonly LambdaStreamRecord[] = event.Records;
    const filter = this.filter;
    const records = filter === undefined ? delivered : delivered.filter((record) => filter(record));
    const queue: WorkItem[] = records.length === 0 ? [] : [{ records, attempts: 0, invokeCount: 0 }];
    const onFailure: OnFailureRecord[] = [];
    let invocations = 0;
    let batchItemFailures = 0;
    let functionErrors = 0;

    const checkpoint = async (done: readonly LambdaStreamRecord[]) => {
      const last = done.length === 0 ? undefined : recordPosition(done[done.length - 1]).sequenceNumber;
      if (last !== undefined) await options.onCheckpoint?.(last);
    };
    const giveUp = async (item: WorkItem, requestId: string, functionError: boolean) => {
      const record = this.onFailureRecord(item, requestId, functionError, options.shardId);
      onFailure.push(record);
      await options.onFailure?.(record);
      await checkpoint(item.records);
    };

    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      const requestId = randomUUID();
      const result = await this.invoke(item.records, requestId, options.local);
      invocations += 1;
      const invokeCount = item.invokeCount + 1;
      options.onInvocation?.({
        requestId,
        records: item.records.length,
        outcome: result.outcome,
        batchItemFailures: result.outcome === InvocationOutcome.Partial ? result.identifiers : 0,
        ...(result.outcome === InvocationOutcome.Error && { error: result.message }),
      });

      if (result.outcome === InvocationOutcome.Success) {
        await checkpoint(item.records);
        continue;
      }
      if (result.outcome === InvocationOutcome.Partial) {
        batchItemFailures += result.identifiers;
        // Lambda checkpoints before the lowest reported record and re-delivers from it, later successes included.
        await checkpoint(item.records.slice(0, result.failedIndex));
        const rest: WorkItem = { records: item.records.slice(result.failedIndex), attempts: item.attempts + 1, invokeCount };
        if (rest.attempts > this.maxRetries) await giveUp(rest, requestId, false);
        else queue.unshift(rest);
        continue;
      }
      functionErrors += 1;
      if (this.bisect && item.records.length > 1) {
        const middle = Math.ceil(item.records.length / 2);
        queue.unshift(
          { records: item.records.slice(0, middle), attempts: item.attempts, invokeCount },
          { records: item.records.slice(middle), attempts: item.attempts, invokeCount },
        );
        continue;
      }
      const retry: WorkItem = { records: item.records, attempts: item.attempts + 1, invokeCount };
      if (retry.attempts > this.maxRetries) await giveUp(retry, requestId, true);
      else queue.unshift(retry);
    }
    // Every record is done now, the filtered ones included: the checkpoint moves past the whole batch.
    if (records.length < delivered.length) await checkpoint(delivered);
    return { records: delivered.length, filtered: delivered.length - records.length, invocations, batchItemFailures, functionErrors, onFailure };
  }

  private async invoke(records: readonly LambdaStreamRecord[], requestId: string, local: LocalInvocation | undefined): Promise<InvocationResult> {
    const startedAt = Date.now();
    const context = createLocalContext({
      functionName: this.functionName,
      region: this.region,
      timeoutMs: this.timeoutMs,
      requestId,
      startedAt,
    });
    // Not enumerable: a handler that logs its context should not print the hook.
    if (local !== undefined) Object.defineProperty(context, LOCAL_INVOCATION, { value: local });
    // Every invocation gets its own copy, as from the wire: a handler that mutates its event cannot change a retry.
    // Through JSON text, as Lambda sends it, without recursion: a record nested 100,000 levels deep is a fault for
    // the handler to capture, not a stack overflow of the emulator (structuredClone recurses).
    const event = { Records: JSON.parse(jsonText(records)) as LambdaStreamRecord[] } as StreamEvent;
    const run = Promise.resolve()
      .then(() => this.handler(event, context))
      .then(
        (response: unknown) => ({ threw: false as const, response }),
        (error: unknown) => ({ threw: true as const, error }),
      );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
    });
    const first = await Promise.race([run, timeout]);
    clearTimeout(timer);
    // Lambda would freeze a timed-out sandbox; here the handler keeps running, so wait for it before any retry
    // to keep one shard's invocations from overlapping.
    const settled = first === 'timeout' ? await run : first;
    if (first === 'timeout' || Date.now() - startedAt >= this.timeoutMs) {
      return { outcome: InvocationOutcome.Error, message: `Task timed out after ${(this.timeoutMs / 1000).toFixed(2)} seconds.` };
    }
    if (settled.threw) return { outcome: InvocationOutcome.Error, message: errorMessage(settled.error) };
    return interpretResponse(settled.response, records);
  }

  private onFailureRecord(item: WorkItem, requestId: string, functionError: boolean, shardId: string | undefined): OnFailureRecord {
    const first = recordPosition(item.records[0]);
    const last = recordPosition(item.records[item.records.length - 1]);
    const dynamodb = first.source === 'aws:dynamodb';
    const arrival = (time: number | undefined) => {
      const iso = new Date(time ?? Date.now()).toISOString();
      // DynamoDB creation times have second precision; Lambda prints them without milliseconds.
      return dynamodb ? iso.replace(/\.\d{3}Z$/, 'Z') : iso;
    };
    const info: OnFailureBatchInfo = {
      shardId: shardId ?? first.shardId ?? 'unknown',
      startSequenceNumber: first.sequenceNumber ?? '',
      endSequenceNumber: last.sequenceNumber ?? '',
      approximateArrivalOfFirstRecord: arrival(first.arrivalTime),
      approximateArrivalOfLastRecord: arrival(last.arrivalTime),
      batchSize: item.records.length,
      streamArn: first.streamArn ?? '',
    };
    const base: OnFailureRecordBase = {
      requestContext: {
        requestId,
        functionArn: localFunctionArn(this.functionName, this.region),
        condition: FailureCondition.RetryAttemptsExhausted,
        approximateInvokeCount: item.invokeCount,
      },
      responseContext: {
        statusCode: 200,
        executedVersion: '$LATEST',
        ...(functionError && { functionError: 'Unhandled' }),
      },
      version: '1.0',
      timestamp: new Date().toISOString(),
    };
    return dynamodb ? { ...base, DDBStreamBatchInfo: info } : { ...base, KinesisBatchInfo: info };
  }
}

/**
 * Reads a handler's response the way Lambda does. An empty or null response or list means success; an
 * empty, null or misnamed identifier fails the whole batch. An identifier that is not in the batch is
 * unverified platform behaviour (emulators differ); this emulation fails the whole batch so the bug shows.
 */
function interpretResponse(response: unknown, records: readonly LambdaStreamRecord[]): InvocationResult {
  if (typeof response !== 'object' || response === null) return { outcome: InvocationOutcome.Success };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { outcome: InvocationOutcome.Success };
  if (!Array.isArray(failures)) {
    return { outcome: InvocationOutcome.Error, message: 'The response\'s batchItemFailures is not a list.' };
  }
  if (failures.length === 0) return { outcome: InvocationOutcome.Success };
  const indexBySequence = new Map<string, number>();
  records.forEach((record, index) => {
    const sequenceNumber = recordPosition(record).sequenceNumber;
    if (sequenceNumber !== undefined && !indexBySequence.has(sequenceNumber)) indexBySequence.set(sequenceNumber, index);
  });
  let lowest: { readonly sequenceNumber: string; readonly index: number } | undefined;
  for (const failure of failures) {
    const identifier = typeof failure === 'object' && failure !== null ? (failure as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof identifier !== 'string' || identifier === '') {
      return { outcome: InvocationOutcome.Error, message: `The response holds an invalid batch item failure: ${JSON.stringify(failure)}.` };
    }
    const index = indexBySequence.get(identifier);
    if (index === undefined) {
      return { outcome: InvocationOutcome.Error, message: `The response names sequence number ${identifier}, which is not in the batch.` };
    }
    if (lowest === undefined || compareSequenceNumbers(identifier, lowest.sequenceNumber) < 0) {
      lowest = { sequenceNumber: identifier, index };
    }
  }
  return { outcome: InvocationOutcome.Partial, failedIndex: lowest?.index ?? 0, identifiers: failures.length };
}
