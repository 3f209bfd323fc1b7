/**
 * Diverting everything written to process.stdout or process.stderr (console.log, Powertools Logger and Metrics,
 * which write through Console objects bound to those stream objects) while the CLI keeps stdout for its own
 * output: one JSON document with --json, the demo's report. Patching the stream's `write` catches every writer,
 * whenever it was created.
 */

export interface DivertedStream {
  /** Writes to the real stream. */
  write(text: string): Promise<void>;
  /** Puts the real `write` back. */
  restore(): void;
}

type WriteCallback = (error?: Error | null) => void;

export function divertStream(stream: NodeJS.WriteStream, target: (chunk: string) => void): DivertedStream {
  const original = stream.write;
  const diverted = (chunk: string | Uint8Array, encodingOrCallback?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean => {
    target(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    if (done !== undefined) process.nextTick(done);
    return true;
  };
  stream.write = diverted as typeof stream.write;
  return {
    write: (text) =>
      new Promise<void>((resolve, reject) => {
        original.call(stream, text, 'utf8', (error?: Error | null) => (error ? reject(error) : resolve()));
      }),
    restore: () => {
      stream.write = original;
    },
  };
}

/** Diverts stdout to stderr. */
export function stdoutToStderr(): DivertedStream {
  return divertStream(process.stdout, (chunk) => process.stderr.write(chunk));
}
