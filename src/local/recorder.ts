/**
 * `shardflow record`: captures a Kinesis stream or a DynamoDB stream (any endpoint, AWS included) into a JSONL
 * recording that `replay` accepts: each line one batch of one shard, with the records Lambda would deliver.
 */
import { writeFile } from 'node:fs/promises';
import { appendJsonLines, type RecordingLine } from './recording';
import type { ShardInfo, StreamReader } from './streams';

export interface RecordOptions {
  readonly reader: StreamReader;
  /** The JSONL file to write (replaced). */
  readonly output: string;
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

/** Parents before children, so a replay of the recording sees each partition key's records in order. */
function lineageOrder(shards: readonly ShardInfo[]): ShardInfo[] {
  const byId = new Map(shards.map((shard) => [shard.shardId, shard]));
  const ordered: ShardInfo[] = [];
  const seen = new Set<string>();
  const visit = (shard: ShardInfo) => {
    if (seen.has(shard.shardId)) return;
    seen.add(shard.shardId);
    for (const parent of [shard.parentShardId, shard.adjacentParentShardId]) {
      const known = parent === undefined ? undefined : byId.get(parent);
      if (known !== undefined) visit(known);
    }
    ordered.push(shard);
  };
  shards.forEach(visit);
  return ordered;
}

export async function recordStream(options: RecordOptions): Promise<RecordResult> {
  const { reader } = options;
  const batchSize = options.batchSize ?? 100;
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= reader.maxReadLimit)) {
    throw new Error(`The batch size must be an integer from 1 to ${reader.maxReadLimit}, got ${batchSize}.`);
  }
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  await writeFile(options.output, '', 'utf8');
  const shards = lineageOrder(await reader.listShards());
  let records = 0;
  let lines = 0;
  const full = () => options.maxRecords !== undefined && records >= options.maxRecords;
  const stopped = () => options.signal?.aborted === true || full();
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

  const recordShard = async (shard: ShardInfo) => {
    let iterator = await reader.iterator(shard.shardId, { type: options.from ?? 'TRIM_HORIZON' });
    let emptyReads = 0;
    while (iterator !== undefined && !stopped()) {
      const limit = Math.min(batchSize, options.maxRecords === undefined ? batchSize : options.maxRecords - records);
      const read = await reader.read(shard.shardId, iterator, limit);
      iterator = read.nextIterator;
      if (read.records.length > 0) {
        emptyReads = 0;
        const taken = read.records.slice(0, limit);
        const line: RecordingLine = {
          Records: taken as RecordingLine['Records'],
          // DynamoDB stream records do not name their shard; keep it for on-failure records in replay.
          ...(reader.source === 'aws:dynamodb' && { shardId: shard.shardId }),
        };
        await appendJsonLines(options.output, [line]);
        records += taken.length;
        lines += 1;
        options.onProgress?.(records, lines);
        continue;
      }
      emptyReads += 1;
      // Kinesis says when a read reached the tip; DynamoDB Streams does not, so two empty reads in a row count.
      const caughtUp = reader.source === 'aws:kinesis' ? read.millisBehindLatest === 0 : emptyReads >= 2;
      if (caughtUp && options.follow !== true) return;
      if (caughtUp) await pause(pollIntervalMs);
    }
  };

  if (options.follow === true) {
    // Following never ends on open shards, so read them side by side.
    await Promise.all(shards.map(recordShard));
  } else {
    for (const shard of shards) await recordShard(shard);
  }
  return { records, lines, shards: shards.length };
}
