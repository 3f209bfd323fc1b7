/**
 * The EMF lines real handlers print: `createHandler` over a pipeline whose records succeed, fail for retry, wait
 * behind a failure of their key, fail permanently or match no processor, whose sink reports every count a sink
 * can, and with a fault sink. Batches are a second apart on a fake clock (only `Date` is faked); the last batch
 * finds the sink's table missing, and the last event fails as a whole.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { ErrorCode, RetryableError, ShardflowError, ValidationError, createHandler, definePipeline, provenanceOf, type AddEffect, type Processor, type Sink } from '../../src';
import { kinesisEvent, kinesisRecord } from '../helpers/factories';
import { captureOutput } from '../helpers/output';

/** 2026-03-01T12:00:00Z: the fake clock's start. */
export const CLOCK_START = Date.UTC(2026, 2, 1, 12);

const processor: Processor<AddEffect> = {
  name: 'totals',
  select: { streams: ['Lab-Stream'] },
  process(record) {
    const { kind } = (record.source === 'aws:kinesis' ? record.payload.json() : {}) as { kind?: string };
    if (kind === 'retry') throw new RetryableError(`Record ${record.recordId} waits for its dependency.`);
    if (kind === 'bad') throw new ValidationError(`Record ${record.recordId} is not valid.`);
    return [{ type: 'add', provenance: provenanceOf(record), table: 'Totals', key: { Id: 'all' }, add: { Count: 1 } }];
  },
};

/**
 * A sink that applies everything and reports every count a sink can report, varying by batch, except in the batch
 * `brokenBatch`, where it finds its table missing (a broken deployment: the whole batch fails).
 */
function countingSink(brokenBatch: number): Sink<AddEffect> {
  let batch = 0;
  return {
    name: 'counting',
    accepts: (effect): effect is AddEffect => effect.type === 'add',
    async apply(records) {
      batch += 1;
      if (batch === brokenBatch) throw new ShardflowError(ErrorCode.DeploymentError, 'Table Totals does not exist.');
      return {
        failed: [],
        counts: {
          requests: batch,
          consumedWriteCapacity: 2 * records.length,
          duplicatesSkipped: batch % 2,
          conflictingDuplicates: batch % 4 === 0 ? 1 : 0,
          retries: batch % 3,
          recordsFailed: 0,
        },
      };
    },
  };
}

/** What the records of a batch do, in order: a batch of n records has the first n. */
const KINDS = ['ok', 'retry', 'behind-retry', 'bad', 'unrouted'] as const;

function batchEvent(size: number, partitionKey: string): KinesisStreamEvent {
  return kinesisEvent(
    KINDS.slice(0, size).map((kind, index) =>
      kinesisRecord({
        json: { kind },
        // The record behind the retried one shares its key, so it is skipped.
        partitionKey: `${partitionKey}-${kind === 'behind-retry' ? index - 1 : index}`,
        streamName: kind === 'unrouted' ? 'Other-Stream' : 'Lab-Stream',
      }),
    ),
  );
}

/** Runs `batches` invocations of a handler named `service`, then one that fails as a whole; they print to stdout. */
export async function runBatches(service: string, batches: number): Promise<void> {
  const handler = createHandler(definePipeline({ processors: [processor], sinks: [countingSink(batches)], faultSink: { name: 'faults', capture: async () => undefined } }), {
    serviceName: service,
  });
  jest.useFakeTimers({ now: CLOCK_START, doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
  try {
    for (let index = 0; index < batches; index++) {
      jest.setSystemTime(CLOCK_START + index * 1000);
      // The last batch meets the broken deployment and throws, publishing DeploymentErrors.
      await handler(batchEvent(1 + (index % KINDS.length), `${service}-${index}`), {} as never).catch((error: unknown) => {
        if (index !== batches - 1) throw error;
      });
    }
    jest.setSystemTime(CLOCK_START + batches * 1000);
    // Not a stream event: the handler throws, and publishes BatchErrors.
    await handler({ Records: 'none' } as never, {} as never).catch(() => undefined);
  } finally {
    jest.useRealTimers();
  }
}

/** The JSON lines (logs and EMF) that `runBatches` prints. */
export async function handlerOutput(service: string, batches: number): Promise<Record<string, unknown>[]> {
  const output = captureOutput();
  try {
    await runBatches(service, batches);
    return output.lines();
  } finally {
    output.restore();
  }
}

/** Only the EMF documents of `lines`, one JSON text a line. */
export function emfText(lines: readonly Record<string, unknown>[]): string {
  return lines
    .filter((line) => '_aws' in line)
    .map((line) => JSON.stringify(line))
    .join('\n');
}
