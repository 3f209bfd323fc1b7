/** Captures what Powertools writes: its Console writes through process.stdout/stderr.write (WARN and up: stderr). */
export interface CapturedOutput {
  /** The JSON lines written so far, parsed (log lines and EMF documents); other lines (warnings) are left out. */
  lines(): Record<string, unknown>[];
  restore(): void;
}

export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
  return {
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}

/** Runs `action` with the output captured; its result and the JSON lines it wrote. */
export async function capturingOutput<T>(action: () => T | Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const output = captureOutput();
  try {
    const result = await action();
    return { result, lines: output.lines() };
  } finally {
    output.restore();
  }
}
