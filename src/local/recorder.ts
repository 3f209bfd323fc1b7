/**
 * `shardflow record`: captures a Kinesis stream or a DynamoDB stream (any endpoint, AWS included) into a JSONL
 * recording that `replay` accepts: each line one batch of one shard, with the records Lambda would deliver.
 */
import { writeFile } from 'node:fs/promises';
import { checkInteger } from '../runtime/options';
import { appendJsonLines, type RecordingLine } from './recording';
import { parentsDone, withListedParents, type ShardInfo, type ShardPosition, type StreamReader } from './streams';

export interface RecordOptions {
  readonly reader: StreamReader;
  /** The JSONL file to write: replaced, or appended to with `append`. */
  readonly output: string;
  /** Append to `output` instead of replacing it (to record several streams into one recording). @default false */
  readonly append?: boolean;
  /** Where to start on every shard. @default 'TRIM_HORIZON' */
  readonly from?: 'TRIM_HORIZON' | 'LATEST';
  /** Records per line (delivery) at most. @default 100 */
  readonly batchSize?: number;
  /** Keep reading new records until `signal` aborts; otherwise stop once every shard is caught up. @default false */
  readonly follow?: boolean;
  /** Stop after this many records. */
  readonly maxRecords?: number;
  readonly signal?: AbortSignal;
  /** Wait between reads of a caught-up shard when following. @default 1000 */
  readonly pollIntervalMs?: number;
  readonly onProgress?: (records: number, lines: number) => void;
}

export interface RecordResult {
  readonly records: number;
  readonly lines: number;
  readonly shards: number;
}

type ShardState = 'waiting' | 'running' | 'done';

export async function recordStream(options: RecordOptions): Promise<RecordResult> {
  const { reader } = options;
  const batchSize = options.batchSize ?? 100;
  checkInteger('recordStream', 'batchSize', batchSize, 1, reader.maxReadLimit);
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  if (options.append !== true) await writeFile(options.output, '', 'utf8');
  let records = 0;
  let lines = 0;
  const remaining = () => (options.maxRecords === undefined ? Infinity : options.maxRecords - records);
  const stopped = () => options.signal?.aborted === true || remaining() <= 0;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      options.signal?.addEventListener('abort', done, { once: true });
    });

  /** Reads one shard from `from`; true when it is closed and was read to its end. */
  const recordShard = async (shard: ShardInfo, from: ShardPosition): Promise<boolean> => {
    let iterator = await reader.iterator(shard.shardId, from);
    let emptyReads = 0;
    while (iterator !== undefined && !stopped()) {
      const read = await reader.read(shard.shardId, iterator, Math.min(batchSize, remaining()));
      iterator = read.nextIterator;
      if (read.records.length > 0) {
        emptyReads = 0;
        // Shards are read side by side: take and count before any await, so together they stop at maxRecords.
        const taken = read.records.slice(0, remaining());
        if (taken.length === 0) continue;
        records += taken.length;
        lines += 1;
        const line: RecordingLine = {
          Records: taken as RecordingLine['Records'],
          // DynamoDB stream records do not name their shard; keep it for on-failure records in replay.
          ...(reader.source === 'aws:dynamodb' && { shardId: shard.shardId }),
        };
        await appendJsonLines(options.output, [line]);
        options.onProgress?.(records, lines);
        continue;
      }
      emptyReads += 1;
      // Kinesis says when a read reached the tip; DynamoDB Streams does not, so two empty reads in a row count.
      const caughtUp = reader.source === 'aws:kinesis' ? read.millisBehindLatest === 0 : emptyReads >= 2;
      if (caughtUp && options.follow !== true) return iterator === undefined;
      if (caughtUp) await pause(pollIntervalMs);
    }
    return iterator === undefined;
  };

  // Parents before children, as the poller reads them, so a replay of the recording sees each partition key's
  // records in order. A shard that closes (a reshard, DynamoDB's shard rollover) has its children listed again.
  const shards = new Map<string, { readonly shard: ShardInfo; readonly from: ShardPosition; state: ShardState }>();
  const recordReady = async (): Promise<void> => {
    if (stopped()) return;
    // Shards that appear later are read from their start: their records all came after the first listing.
    const from: ShardPosition = shards.size === 0 ? { type: options.from ?? 'TRIM_HORIZON' } : { type: 'TRIM_HORIZON' };
    for (const shard of withListedParents(await reader.listShards())) {
      if (!shards.has(shard.shardId)) shards.set(shard.shardId, { shard, from, state: 'waiting' });
    }
    const ready = [...shards.values()].filter(
      (entry) => entry.state === 'waiting' && parentsDone(entry.shard, (parent) => shards.get(parent)?.state === 'done'),
    );
    for (const entry of ready) entry.state = 'running';
    await Promise.all(
      ready.map(async (entry) => {
        if (!(await recordShard(entry.shard, entry.from))) return;
        entry.state = 'done';
        await recordReady();
      }),
    );
  };
  await recordReady();
  const read = [...shards.values()].filter((entry) => entry.state !== 'waiting').length;
  return { records, lines, shards: read };
}
