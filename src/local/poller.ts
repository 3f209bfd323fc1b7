/**
 * A local event source mapping: polls DynamoDB Streams and Kinesis shards the way Lambda does and invokes
 * handlers through the `EventSourceMapping` emulation. Per shard: records in order, one batch at a time, batch
 * size and batching window, starting position, parents before children, and a checkpoint after every batch so a
 * restart resumes where the last run stopped (see docs/local-runner.md for why that is exact in effect).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { StartingPosition } from '../app/types';
import type { LocalInvocation } from '../runtime/local-invocation';
import type { StreamEvent, StreamHandler } from '../runtime/types';
import { ErrorCode, ShardflowError } from '../runtime/errors';
import { checkInteger, optionsError } from '../runtime/options';
import type { CheckpointStore } from './checkpoints';
import {
  addDelivery,
  EventSourceMapping,
  NO_DELIVERIES,
  type DeliveryTotals,
  type EventSourceMappingOptions,
  type OnFailureRecord,
} from './event-source';
import { recordPosition, type LambdaStreamRecord } from './lambda-records';
import {
  openDynamoDBStream,
  openKinesisStream,
  parentsDone,
  withListedParents,
  type ShardInfo,
  type ShardRead,
  type StreamReader,
} from './streams';

/** A stream a mapping consumes: the stream of a DynamoDB table, or a Kinesis stream. */
export type PollerSource = { readonly table: string } | { readonly kinesisStream: string };


export interface PollerMapping {
  /** Names the mapping (like a function name) in checkpoints, logs and on-failure records. */
  readonly name: string;
  readonly handler: StreamHandler;
  readonly sources: readonly PollerSource[];
  /** Records per invocation at most (BatchSize). @default 100 */
  readonly batchSize?: number;
  /** How long to gather records before invoking with a batch that is not full (MaximumBatchingWindowInSeconds). @default 0 */
  readonly batchingWindowMs?: number;
  /**
   * Where reading starts on shards that have no checkpoint (StartingPosition). Shards that appear later
   * (children after a reshard) are always read from their start, as Lambda does.
   * @default 'TRIM_HORIZON'
   */
  readonly startingPosition?: StartingPosition;
  /** Retries, bisect and timeout of the invocations. */
  readonly invocation?: EventSourceMappingOptions;
  /** A hook for the invocations of each batch (a `TotalsCollector`'s, say). */
  readonly observe?: (event: StreamEvent) => LocalInvocation;
}

export interface PollerOptions {
  readonly clients: {
    readonly dynamodb: DynamoDBClient;
    readonly streams: DynamoDBStreamsClient;
    /** Needed only when a mapping consumes a Kinesis stream. */
    readonly kinesis?: KinesisClient;
  };
  readonly checkpoints: CheckpointStore;
  /** Wait between polls of a shard that had no new records (Lambda polls about once a second). @default 1000 */
  readonly pollIntervalMs?: number;
  /** Wait before a shard whose reader failed resumes from its last checkpoint. @default 1000 */
  readonly restartDelayMs?: number;
  /** Receives each on-failure record (the on-failure destination). */
  readonly onFailure?: (record: OnFailureRecord, mapping: string) => Promise<void> | void;
  /** Called when reading or checkpointing a shard fails; the shard resumes from its checkpoint after `restartDelayMs`. */
  readonly onError?: (error: unknown, shard: string) => void;
}

export type PollerStats = DeliveryTotals;

const COMPONENT = 'LocalPoller';

/** How often to look for new shards. */
const SHARD_DISCOVERY_INTERVAL_MS = 10_000;
/** Lambda's largest BatchSize for both stream kinds. */
const MAX_BATCH_SIZE = 10_000;
/** Consecutive reads that may fail with an expired or trimmed iterator before the shard takes the restart path. */
const MAX_REPOSITIONS = 3;

function isRepositionable(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExpiredIteratorException' || error.name === 'TrimmedDataAccessException');
}

/** Lambda's synchronous invocation payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

interface Consumer {
  readonly mapping: PollerMapping;
  readonly mappingOptions: { readonly batchSize: number; readonly batchingWindowMs: number; readonly startingPosition: StartingPosition };
  readonly invoker: EventSourceMapping;
  readonly reader: StreamReader;
  discovered: boolean;
}

type WorkerState = 'waiting' | 'running' | 'done';

/** Where a shard worker starts reading, or `closed` when its checkpoint says it was read to its end. */
type ShardStart = { readonly iterator: string | undefined } | 'closed';

interface ShardWorker {
  readonly key: string;
  readonly consumer: Consumer;
  readonly shard: ShardInfo;
  /** The mapping's starting position for shards found at start, TRIM_HORIZON for shards found later. */
  readonly initialPosition: StartingPosition;
  state: WorkerState;
  /** The poll counter value when the last read that returned nothing started, with nothing pending. */
  lastIdlePoll: number;
  busy: boolean;
  loop: Promise<void> | undefined;
}

export class LocalPoller {
  private readonly options: PollerOptions;
  private readonly pollIntervalMs: number;
  private readonly restartDelayMs: number;
  private readonly mappings: readonly PollerMapping[];
  private readonly consumers: Consumer[] = [];
  private readonly workers = new Map<string, ShardWorker>();
  private stopping = false;
  private started = false;
  /** Wakes the sleeping shard loops when the poller stops. */
  private readonly sleepers = new Set<() => void>();
  private discoveryLoop: Promise<void> | undefined;
  private pollCounter = 0;
  private counters: PollerStats = NO_DELIVERIES;

  constructor(mappings: readonly PollerMapping[], options: PollerOptions) {
    this.mappings = mappings;
    this.options = options;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.restartDelayMs = options.restartDelayMs ?? 1000;
    const names = new Set<string>();
    for (const mapping of mappings) {
      if (names.has(mapping.name)) throw optionsError(COMPONENT, `two mappings are named "${mapping.name}"; names key the checkpoints`);
      names.add(mapping.name);
      const component = `${COMPONENT} (mapping ${mapping.name})`;
      checkInteger(component, 'batchSize', mapping.batchSize ?? 100, 1, MAX_BATCH_SIZE);
      checkInteger(component, 'batchingWindowMs', mapping.batchingWindowMs ?? 0, 0, 300_000);
    }
  }

  /** Opens every source and obtains the first shard iterators; resolves once the mapping is reading. */
  async start(): Promise<void> {
    if (this.started) throw new Error('This poller has already been started; create a new one to restart.');
    this.started = true;
    for (const mapping of this.mappings) {
      const invoker = new EventSourceMapping(mapping.handler, { functionName: mapping.name, ...mapping.invocation });
      for (const source of mapping.sources) {
        const reader = await this.open(source);
        this.consumers.push({
          mapping,
          invoker,
          reader,
          discovered: false,
          mappingOptions: {
            batchSize: mapping.batchSize ?? 100,
            batchingWindowMs: mapping.batchingWindowMs ?? 0,
            startingPosition: mapping.startingPosition ?? StartingPosition.TrimHorizon,
          },
        });
      }
    }
    await Promise.all(this.consumers.map((consumer) => this.discover(consumer)));
    this.discoveryLoop = this.runDiscovery();
  }

  /** Stops polling. A batch being delivered is finished (with its retries) first; records read but not yet delivered are read again on restart. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of [...this.sleepers]) wake();
    await this.discoveryLoop;
    await Promise.all([...this.workers.values()].map((worker) => worker.loop));
  }

  stats(): PollerStats {
    return this.counters;
  }

  /**
   * Resolves once every shard has been read to its current end with nothing left to deliver, and a further round
   * found nothing new (handlers may write to streams other mappings read).
   */
  async waitForIdle(): Promise<void> {
    for (;;) {
      await Promise.all(this.consumers.map((consumer) => this.discover(consumer)));
      const batchesBefore = this.counters.batches;
      const mark = this.pollCounter;
      while (!this.stopping && !this.idleSince(mark)) await this.sleep(20);
      if (this.stopping || this.counters.batches === batchesBefore) return;
    }
  }

  private idleSince(mark: number): boolean {
    for (const worker of this.workers.values()) {
      if (worker.state === 'done') continue;
      if (worker.state === 'waiting') {
        if (this.parentsDone(worker)) return false;
        continue;
      }
      if (worker.busy || worker.lastIdlePoll <= mark) return false;
    }
    return true;
  }

  private async open(source: PollerSource): Promise<StreamReader> {
    const { clients } = this.options;
    if ('table' in source) return openDynamoDBStream(clients, { tableName: source.table });
    if (clients.kinesis === undefined) {
      throw new ShardflowError(ErrorCode.InvalidOptions, `Kinesis stream ${source.kinesisStream} is a source, but no Kinesis client was given.`);
    }
    return openKinesisStream(clients.kinesis, source.kinesisStream);
  }

  private async runDiscovery(): Promise<void> {
    while (!this.stopping) {
      await this.sleep(SHARD_DISCOVERY_INTERVAL_MS);
      if (this.stopping) return;
      for (const consumer of this.consumers) {
        try {
          await this.discover(consumer);
        } catch (error) {
          this.options.onError?.(error, `${consumer.mapping.name}/${consumer.reader.name}`);
        }
      }
    }
  }

  /** Lists the shards of a source, registers new ones and starts those whose parents are done. */
  private async discover(consumer: Consumer): Promise<void> {
    if (this.stopping) return;
    const shards = await consumer.reader.listShards();
    const initial = !consumer.discovered;
    consumer.discovered = true;
    for (const shard of withListedParents(shards)) {
      const key = `${consumer.mapping.name}|${consumer.reader.streamKey}|${shard.shardId}`;
      if (this.workers.has(key)) continue;
      this.workers.set(key, {
        key,
        consumer,
        shard,
        initialPosition: initial ? consumer.mappingOptions.startingPosition : StartingPosition.TrimHorizon,
        state: 'waiting',
        lastIdlePoll: -1,
        busy: false,
        loop: undefined,
      });
    }
    await this.startReady(consumer);
  }

  private parentsDone(worker: ShardWorker): boolean {
    const prefix = `${worker.consumer.mapping.name}|${worker.consumer.reader.streamKey}|`;
    return parentsDone(worker.shard, (parent) => this.workers.get(prefix + parent)?.state === 'done');
  }

  private async startReady(consumer: Consumer): Promise<void> {
    const ready = [...this.workers.values()].filter(
      (worker) => worker.consumer === consumer && worker.state === 'waiting' && this.parentsDone(worker),
    );
    await Promise.all(
      ready.map(async (worker) => {
        worker.state = 'running';
        try {
          const first = await this.position(worker);
          worker.loop = this.runShard(worker, first);
        } catch (error) {
          worker.state = 'waiting';
          throw error;
        }
      }),
    );
  }

  /**
   * Where a shard's reading resumes: after its checkpoint; else where a LATEST mapping started; else at the
   * starting position.
   */
  private async position(worker: ShardWorker): Promise<ShardStart> {
    const { reader } = worker.consumer;
    const { shardId } = worker.shard;
    const checkpoints = this.options.checkpoints;
    const checkpoint = await checkpoints.load(worker.key);
    if (checkpoint?.closed === true) return 'closed';
    if (checkpoint?.sequenceNumber !== undefined) {
      return { iterator: await reader.iterator(shardId, { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: checkpoint.sequenceNumber }) };
    }
    if (checkpoint?.startedAt !== undefined) {
      // A LATEST mapping that stopped before its first checkpoint still owes everything since it started. A
      // DynamoDB shard only gets this marker when it was empty at the start (see `fastForward`).
      return {
        iterator: await reader.iterator(
          shardId,
          reader.source === 'aws:kinesis' ? { type: 'AT_TIMESTAMP', timestamp: checkpoint.startedAt } : { type: 'TRIM_HORIZON' },
        ),
      };
    }
    if (worker.initialPosition === StartingPosition.Latest) {
      if (reader.source === 'aws:dynamodb') return this.fastForward(worker);
      // Marked before the iterator is taken: a restart may include a record from the moment between, never lose one.
      await checkpoints.saveStart(worker.key, Date.now());
      return { iterator: await reader.iterator(shardId, { type: 'LATEST' }) };
    }
    return { iterator: await reader.iterator(shardId, { type: 'TRIM_HORIZON' }) };
  }

  /**
   * LATEST on a DynamoDB stream, made exact across restarts: read the shard to its end without delivering and
   * checkpoint the last record (DynamoDB Streams cannot start at a timestamp, and keeps only 24 hours).
   */
  private async fastForward(worker: ShardWorker): Promise<ShardStart> {
    const { reader } = worker.consumer;
    const { shardId } = worker.shard;
    let iterator = await reader.iterator(shardId, { type: 'TRIM_HORIZON' });
    let last: string | undefined;
    while (iterator !== undefined) {
      const read = await reader.read(shardId, iterator, reader.maxReadLimit);
      iterator = read.nextIterator;
      if (read.records.length === 0) break;
      last = recordPosition(read.records[read.records.length - 1]).sequenceNumber ?? last;
    }
    if (last === undefined) await this.options.checkpoints.saveStart(worker.key, Date.now());
    else await this.options.checkpoints.saveSequence(worker.key, last);
    return { iterator };
  }

  private async runShard(worker: ShardWorker, first: ShardStart): Promise<void> {
    let start: ShardStart | undefined = first;
    while (start !== 'closed') {
      try {
        const finished = await this.readShard(worker, start.iterator);
        if (!finished) return;
        await this.options.checkpoints.saveClosed(worker.key);
        break;
      } catch (error) {
        // Like a crashed invocation: resume from the last checkpoint; the idempotent sinks absorb the re-delivery.
        this.options.onError?.(error, worker.key);
        start = await this.restartPosition(worker);
        if (start === undefined) return;
      }
    }
    worker.state = 'done';
    try {
      await this.startReady(worker.consumer);
    } catch (error) {
      // The children stay waiting; the next shard discovery starts them.
      this.options.onError?.(error, worker.key);
    }
  }

  /** Waits `restartDelayMs`, then reads the shard's checkpoint again; undefined when stopping. */
  private async restartPosition(worker: ShardWorker): Promise<ShardStart | undefined> {
    for (;;) {
      await this.sleep(this.restartDelayMs);
      if (this.stopping) return undefined;
      try {
        return await this.position(worker);
      } catch (error) {
        this.options.onError?.(error, worker.key);
      }
    }
  }

  /** Reads and delivers until stopped (false) or until the shard is closed and drained (true). */
  private async readShard(worker: ShardWorker, firstIterator: string | undefined): Promise<boolean> {
    const { reader, invoker, mappingOptions } = worker.consumer;
    const { shardId } = worker.shard;
    let iterator = firstIterator;
    const pending: LambdaStreamRecord[] = [];
    let windowStart: number | undefined;
    let repositions = 0;
    while (!this.stopping) {
      let readNothing = false;
      if (iterator !== undefined && pending.length < mappingOptions.batchSize) {
        const pollNumber = ++this.pollCounter;
        let read: ShardRead;
        try {
          read = await reader.read(shardId, iterator, Math.min(reader.maxReadLimit, mappingOptions.batchSize - pending.length));
          repositions = 0;
        } catch (error) {
          // An iterator that expired (a batch took minutes) or points before the trim horizon (DynamoDB Local
          // reports this transiently while the first records of a shard are written): take a new one at the
          // checkpoint and read again. Anything else, or this again and again, goes to the restart path.
          if (!isRepositionable(error) || ++repositions > MAX_REPOSITIONS) throw error;
          const start = await this.position(worker);
          if (start === 'closed') return true;
          pending.length = 0;
          windowStart = undefined;
          iterator = start.iterator;
          continue;
        }
        iterator = read.nextIterator;
        pending.push(...read.records);
        readNothing = read.records.length === 0;
        if (readNothing && pending.length === 0) worker.lastIdlePoll = pollNumber;
      }
      if (pending.length === 0) {
        if (iterator === undefined) return true;
        await this.sleep(this.pollIntervalMs);
        continue;
      }
      windowStart ??= Date.now();
      const waited = Date.now() - windowStart;
      const ready = pending.length >= mappingOptions.batchSize || iterator === undefined || waited >= mappingOptions.batchingWindowMs;
      if (!ready) {
        if (readNothing) await this.sleep(Math.min(this.pollIntervalMs, mappingOptions.batchingWindowMs - waited));
        continue;
      }
      // Stopped while reading: what was read is read again on restart.
      if (this.stopping) break;
      const batch = takeBatch(pending, mappingOptions.batchSize);
      windowStart = pending.length > 0 ? Date.now() : undefined;
      worker.busy = true;
      try {
        const event = { Records: batch } as StreamEvent;
        const local = worker.consumer.mapping.observe?.(event);
        const result = await invoker.deliver(event, {
          shardId,
          ...(local !== undefined && { local }),
          onFailure: (record) => this.options.onFailure?.(record, worker.consumer.mapping.name),
          onCheckpoint: (sequenceNumber) => this.options.checkpoints.saveSequence(worker.key, sequenceNumber),
        });
        this.counters = addDelivery(this.counters, result);
      } finally {
        worker.busy = false;
      }
    }
    return false;
  }

  /** Waits `ms`, or less when the poller stops meanwhile. */
  private sleep(ms: number): Promise<void> {
    if (this.stopping || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}

/** Takes up to `batchSize` records from the front of `pending`, within Lambda's 6 MB payload limit. */
function takeBatch(pending: LambdaStreamRecord[], batchSize: number): LambdaStreamRecord[] {
  let bytes = 0;
  let count = 0;
  while (count < pending.length && count < batchSize) {
    bytes += Buffer.byteLength(JSON.stringify(pending[count]));
    if (count > 0 && bytes > MAX_PAYLOAD_BYTES) break;
    count += 1;
  }
  return pending.splice(0, count);
}
