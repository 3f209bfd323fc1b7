/**
 * The framework's layers know no seed app: only src/seed (the apps themselves) and the CLI's list of built-in apps
 * name them, their tables or their streams. Processors get table and attribute names as options.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const src = resolve(__dirname, '..', '..', 'src');
const SEED_NAMES = /GameScore\w*|PageViews|Lab-Stream|TotalViews|COUNTER|\bOrders\b|'(scores|tags|orders|kinesis-log)'/g;
const ALLOWED = new Set(['seed', join('cli', 'builtin-apps.ts')]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (ALLOWED.has(relative(src, path))) return [];
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('seed names', () => {
  it('appear only in src/seed and src/cli/builtin-apps.ts', () => {
    const found = sourceFiles(src).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, index) => (line.match(SEED_NAMES) ?? []).map((name) => `${relative(src, file)}:${index + 1} ${name}`)),
    );
    expect(found).toEqual([]);
  });

  it('are found where they are', () => {
    // The scan itself must work: the seed apps name their tables.
    expect(readFileSync(join(src, 'seed', 'tables.ts'), 'utf8').match(SEED_NAMES)?.length).toBeGreaterThan(3);
  });
});
