/**
 * Replay: recorded deliveries go through an app's real Lambda handler, via the event source mapping emulation
 * (retries, bisect, on-failure records), against real DynamoDB; the summary lists what happened and every table
 * the app writes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AppDefinition, AppName } from '../apps/types';
import { FileFaultSink, type StoredFault } from '../sinks/faults';
import { ensureTables } from './environment';
import { addDelivery, EventSourceMapping, NO_DELIVERIES, type EventSourceMappingOptions, type OnFailureRecord } from './event-source';
import { appendJsonLines, readRecording } from './recording';
import { dumpTable, type JsonItem } from './tables';

export interface ReplayOptions {
  readonly app: AppDefinition;
  /** JSONL recordings (one event per line) or `.json` files (one event), replayed in order. */
  readonly recordings: readonly string[];
  readonly dynamodb: DynamoDBClient;
  /** Retries, bisect and timeout of the emulated event source mapping. */
  readonly invocation?: EventSourceMappingOptions;
  /** Also append every on-failure record to this JSONL file. */
  readonly dlqFile?: string;
  /** Keep the captured faults in this JSONL file (appended to); by default they go to a scratch file. */
  readonly faultsFile?: string;
  /** Called after each delivery with the number done so far. */
  readonly onDelivery?: (done: number, records: number) => void;
}

export interface ReplaySummary {
  readonly app: AppName;
  readonly recordings: readonly string[];
  /** Lines (events) replayed. */
  readonly deliveries: number;
  /** Records in those events (each counted once, however often it was invoked). */
  readonly records: number;
  readonly invocations: number;
  /** Identifiers returned in partial batch responses, summed over invocations. */
  readonly batchItemFailures: number;
  /** Invocations that failed as a whole (thrown error, timeout, invalid response). */
  readonly functionErrors: number;
  /**
   * Records the app captured as faults: the record as delivered (data included), the error, the stage. A record
   * captured again (a duplicated delivery) is listed once.
   */
  readonly faults: readonly StoredFault[];
  /** On-failure records, as Lambda would send them to an on-failure destination. */
  readonly dlq: readonly OnFailureRecord[];
  /** Every table the app writes, as plain JSON items sorted by key. */
  readonly tables: Record<string, JsonItem[]>;
}

export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const { app, dynamodb } = options;
  await ensureTables(dynamodb, app.tables);
  const scratch = await mkdtemp(join(tmpdir(), 'shardflow-replay-'));
  const faultFile = options.faultsFile ?? join(scratch, 'faults.jsonl');
  try {
    const handler = app.createHandler({ dynamodb, faults: { file: faultFile } });
    const mapping = new EventSourceMapping(handler, { functionName: `shardflow-${app.name}`, ...options.invocation });
    const dlq: OnFailureRecord[] = [];
    let totals = NO_DELIVERIES;
    for (const recording of options.recordings) {
      for await (const delivery of readRecording(recording)) {
        const result = await mapping.deliver(delivery.event, {
          ...(delivery.shardId !== undefined && { shardId: delivery.shardId }),
          onFailure: async (record) => {
            dlq.push(record);
            if (options.dlqFile !== undefined) await appendJsonLines(options.dlqFile, [record]);
          },
        });
        totals = addDelivery(totals, result);
        options.onDelivery?.(totals.batches, totals.records);
      }
    }
    const tables: Record<string, JsonItem[]> = {};
    for (const table of app.outputTables) tables[table] = await dumpTable(dynamodb, table);
    return {
      app: app.name,
      recordings: options.recordings,
      deliveries: totals.batches,
      records: totals.records,
      invocations: totals.invocations,
      batchItemFailures: totals.batchItemFailures,
      functionErrors: totals.functionErrors,
      faults: await new FileFaultSink({ path: faultFile }).listFaults(),
      dlq,
      tables,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
