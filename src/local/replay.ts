/**
 * Replay: recorded deliveries go through an app's real Lambda handler (or a bare handler), via the event source
 * mapping emulation (retries, bisect, on-failure records), against real DynamoDB. The summary lists what happened,
 * the run's totals as the handler reported them, and every table the app writes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AppDefinition } from '../app/types';
import { optionsError } from '../runtime/options';
import type { StreamHandler } from '../runtime/types';
import type { StoredFault } from '../sinks/fault-store';
import { FileFaultSink } from '../sinks/file-faults';
import { appInvocation } from './apps';
import { ensureTables } from './environment';
import { addDelivery, EventSourceMapping, NO_DELIVERIES, type EventSourceMappingOptions, type OnFailureRecord } from './event-source';
import { recordPosition } from './lambda-records';
import { appendJsonLines, readRecording } from './recording';
import { dumpTable, type JsonItem } from './tables';
import { TotalsCollector, type RunTotals, type UnroutedStreams } from './totals';

/** What every replay takes. */
export interface ReplayCommonOptions {
  /** JSONL recordings (one event per line) or `.json` files (one event), replayed in order. */
  readonly recordings: readonly string[];
  readonly dynamodb: DynamoDBClient;
  /** Retries, bisect and timeout of the emulated event source mapping; the app's own settings by default. */
  readonly invocation?: EventSourceMappingOptions;
  /** Also append every on-failure record to this JSONL file. */
  readonly dlqFile?: string;
  /** Called after each delivery with the number done so far. */
  readonly onDelivery?: (done: number, records: number) => void;
}

/** Replays through an app: its tables are created when missing, its faults kept, its output tables listed. */
export interface AppReplayOptions extends ReplayCommonOptions {
  readonly app: AppDefinition;
  /** Keep the captured faults in this JSONL file (appended to); by default they go to a scratch file. */
  readonly faultsFile?: string;
}

/**
 * Replays through a bare Lambda handler that makes its own clients (point them at the tables with
 * AWS_ENDPOINT_URL_DYNAMODB). Its faults go where it sends them.
 */
export interface HandlerReplayOptions extends ReplayCommonOptions {
  readonly handler: StreamHandler;
  /** Names the handler in the summary and in the emulated function name. */
  readonly name: string;
  /** Tables to list in the summary. @default [] */
  readonly tables?: readonly string[];
}

export type ReplayOptions = AppReplayOptions | HandlerReplayOptions;

export interface ReplaySummary {
  /** The app's name, or the bare handler's. */
  readonly app: string;
  readonly recordings: readonly string[];
  /** Lines (events) replayed. */
  readonly deliveries: number;
  /** Records in those events (each counted once, however often it was invoked). */
  readonly records: number;
  /** Records the app's event filters dropped, as Lambda would: never invoked. */
  readonly filtered: number;
  readonly invocations: number;
  /** Identifiers returned in partial batch responses, summed over invocations. */
  readonly batchItemFailures: number;
  /** Invocations that failed as a whole (thrown error, timeout, invalid response). */
  readonly functionErrors: number;
  /**
   * What the handler reported, summed over invocations (a retried record counts in each), with iterator ages on
   * the recording's own timeline. All zero when the handler is not made by shardflow's `createHandler`.
   */
  readonly totals: RunTotals;
  /** Records no processor selected, by stream or table. */
  readonly unrouted: UnroutedStreams;
  /**
   * Records the app captured as faults: the record as delivered (data included), the error, the stage. A record
   * captured again (a duplicated delivery) is listed once. Empty for a bare handler, whose faults go elsewhere.
   */
  readonly faults: readonly StoredFault[];
  /** On-failure records, as Lambda would send them to an on-failure destination. */
  readonly dlq: readonly OnFailureRecord[];
  /** Every table the app writes (or the bare handler's `tables`), as plain JSON items sorted by key. */
  readonly tables: Record<string, JsonItem[]>;
}

/**
 * The recording's clock: the latest arrival time of the records delivered so far. A handler's iterator age is
 * then how far a batch lags behind the recording, not how old the recording is.
 */
class RecordingTimeline {
  private latest = 0;

  readonly now = (): number => this.latest;

  advance(records: readonly unknown[]): void {
    for (const record of records) {
      const arrival = recordPosition(record).arrivalTime;
      if (arrival !== undefined && arrival > this.latest) this.latest = arrival;
    }
  }
}

export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const { dynamodb } = options;
  const app = 'app' in options ? options.app : undefined;
  if (app === undefined && ('handler' in options ? typeof options.handler !== 'function' : true)) {
    throw optionsError('replay', 'give "app" (an app definition) or "handler" (a Lambda handler)');
  }
  const timeoutMs = options.invocation?.timeoutMs;
  if (app !== undefined && timeoutMs !== undefined && timeoutMs <= app.deadlineMarginMs) {
    // Every invocation would start with less time left than the margin: no record would ever run.
    throw optionsError(
      'replay',
      `the function timeout of ${timeoutMs} ms is not above app ${app.name}'s deadline margin of ${app.deadlineMarginMs} ms, ` +
        'so no record would start and every delivery would end in the on-failure records; give a longer timeout',
    );
  }
  if (app !== undefined) await ensureTables(dynamodb, app.tables);
  const scratch = await mkdtemp(join(tmpdir(), 'shardflow-replay-'));
  const faultFile = app !== undefined ? ((options as AppReplayOptions).faultsFile ?? join(scratch, 'faults.jsonl')) : undefined;
  try {
    const name = app?.name ?? (options as HandlerReplayOptions).name;
    const handler = app !== undefined ? app.createHandler({ dynamodb, faults: { file: faultFile as string } }) : (options as HandlerReplayOptions).handler;
    const mapping = new EventSourceMapping(handler, {
      ...(app === undefined ? { functionName: `shardflow-${name}` } : appInvocation(app)),
      ...options.invocation,
    });
    const timeline = new RecordingTimeline();
    const collector = new TotalsCollector(timeline.now);
    const dlq: OnFailureRecord[] = [];
    let totals = NO_DELIVERIES;
    for (const recording of options.recordings) {
      for await (const delivery of readRecording(recording)) {
        timeline.advance(delivery.event.Records);
        const result = await mapping.deliver(delivery.event, {
          ...(delivery.shardId !== undefined && { shardId: delivery.shardId }),
          local: collector.invocation(delivery.event),
          onFailure: async (record) => {
            dlq.push(record);
            if (options.dlqFile !== undefined) await appendJsonLines(options.dlqFile, [record]);
          },
        });
        totals = addDelivery(totals, result);
        options.onDelivery?.(totals.batches, totals.records);
      }
    }
    const tableNames = app !== undefined ? app.outputs.map((table) => table.TableName as string) : ((options as HandlerReplayOptions).tables ?? []);
    const tables: Record<string, JsonItem[]> = {};
    for (const table of tableNames) tables[table] = await dumpTable(dynamodb, table);
    return {
      app: name,
      recordings: options.recordings,
      deliveries: totals.batches,
      records: totals.records,
      filtered: totals.filtered,
      invocations: totals.invocations,
      batchItemFailures: totals.batchItemFailures,
      functionErrors: totals.functionErrors,
      totals: collector.totals(),
      unrouted: collector.unrouted(),
      faults: faultFile === undefined ? [] : await new FileFaultSink({ path: faultFile }).listFaults(),
      dlq,
      tables,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
