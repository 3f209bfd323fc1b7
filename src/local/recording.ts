/**
 * Recordings: JSONL files with one Lambda event (`{"Records": [...]}`) per line, each line one delivery, or a
 * `.json` file holding one event. A line may also carry `shardId` (as tumbling-window events do): DynamoDB stream
 * records do not name their shard, and the on-failure record needs it. It is not passed to the handler.
 */
import { createReadStream } from 'node:fs';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { StreamEvent } from '../runtime/types';

export interface Delivery {
  readonly event: StreamEvent;
  readonly shardId: string | undefined;
  /** `file:line`, for messages. */
  readonly origin: string;
}

/** One line of a recording as written by `shardflow record`. */
export interface RecordingLine {
  readonly Records: StreamEvent['Records'];
  readonly shardId?: string;
}

function toDelivery(value: unknown, origin: string): Delivery {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { Records?: unknown }).Records)) {
    throw new Error(`${origin} is not a Lambda stream event: it has no "Records" list.`);
  }
  const { Records, shardId } = value as { Records: StreamEvent['Records']; shardId?: unknown };
  return { event: { Records } as StreamEvent, shardId: typeof shardId === 'string' ? shardId : undefined, origin };
}

/**
 * Fails, naming the path, unless it is a file: reading a directory fails with an EISDIR that names nothing. (A
 * missing file fails in `stat` with an ENOENT that names it.)
 */
async function requireFile(path: string): Promise<void> {
  if (!(await stat(path)).isFile()) throw new Error(`Recording ${path} is not a file (a directory?): give a JSONL file or a .json file.`);
}

/** Reads the deliveries of one recording, in order. */
export async function* readRecording(path: string): AsyncGenerator<Delivery> {
  await requireFile(path);
  if (path.endsWith('.json')) {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new Error(`${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}.`, { cause: error });
    }
    yield toDelivery(value, path);
    return;
  }
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    if (line.trim() === '') continue;
    const origin = `${path}:${number}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${origin} is not valid JSON: ${error instanceof Error ? error.message : String(error)}.`, { cause: error });
    }
    yield toDelivery(value, origin);
  }
}

/** Counts the deliveries of recordings without keeping them (for a progress bar). */
export async function countDeliveries(paths: readonly string[]): Promise<number> {
  let count = 0;
  for (const path of paths) {
    await requireFile(path);
    if (path.endsWith('.json')) {
      count += 1;
      continue;
    }
    const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) if (line.trim() !== '') count += 1;
  }
  return count;
}

/** Appends JSON lines to a file, one write per call, so a line is never split between writers. */
export async function appendJsonLines(path: string, values: readonly unknown[]): Promise<void> {
  if (values.length === 0) return;
  await appendFile(path, values.map((value) => `${JSON.stringify(value)}\n`).join(''), 'utf8');
}
