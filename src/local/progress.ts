/** A one-line progress bar on a terminal stream (stderr), redrawn at most ten times a second. */

export interface Progress {
  update(done: number, detail?: string): void;
  /** Draws the final state and ends the line. */
  finish(): void;
}

const NO_PROGRESS: Progress = { update: () => undefined, finish: () => undefined };

export interface ProgressOptions {
  readonly total: number;
  readonly label: string;
  /** @default process.stderr */
  readonly stream?: NodeJS.WriteStream;
  /** Show nothing (e.g. with --json). */
  readonly disabled?: boolean;
}

/** A progress bar, or one that shows nothing when disabled or when the stream is not a terminal. */
export function progressBar(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.disabled === true || stream.isTTY !== true) return NO_PROGRESS;
  const width = 30;
  let last = 0;
  let done = 0;
  let detail = '';
  const draw = () => {
    const ratio = options.total === 0 ? 1 : Math.min(1, done / options.total);
    const filled = Math.round(ratio * width);
    const line = `${options.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${options.total} ${detail}`;
    // Some terminals (and pseudo-terminals) report no width; assume a common one rather than cutting the bar.
    const columns = stream.columns !== undefined && stream.columns >= 40 ? stream.columns : 100;
    stream.write(`\r${line.slice(0, columns - 1)}\u001b[K`);
  };
  return {
    update(value, text) {
      done = value;
      if (text !== undefined) detail = text;
      const now = Date.now();
      if (now - last >= 100) {
        last = now;
        draw();
      }
    },
    finish() {
      draw();
      stream.write('\n');
    },
  };
}
