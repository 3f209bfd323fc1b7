/**
 * The dependency rules of .dependency-cruiser.cjs, run by `npm test` on src/ (`npm run deps`), are checked here
 * against a small tree that breaks each of them, so a rule that can no longer fail is noticed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

/** Runs dependency-cruiser with the project's rules on `files` (path -> source) and returns the rules it reports. */
function violations(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'shardflow-layers-'));
  try {
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), source);
    }
    writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', moduleResolution: 'node' } }));
    let output: string;
    try {
      output = execFileSync(process.execPath, [join(root, 'node_modules', '.bin', 'depcruise'), 'src', '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      // depcruise exits non-zero when it finds violations; its report is still on stdout.
      output = (error as { stdout: string }).stdout;
    }
    const report = JSON.parse(output) as { summary: { violations: { rule: { name: string } }[] } };
    return [...new Set(report.summary.violations.map((violation) => violation.rule.name))].sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('layer rules', () => {
  it('accept a tree that follows them', () => {
    expect(
      violations({
        'src/runtime/model.ts': 'export const model = 1;\n',
        'src/sinks/sink.ts': "import { model } from '../runtime/model';\nexport const sink = model;\n",
        'src/app/app.ts': "import { sink } from '../sinks/sink';\nexport const app = sink;\n",
        'src/local/replay.ts': "import { app } from '../app/app';\nexport const replay = app;\n",
        'src/index.ts': "export { app } from './app/app';\n",
      }),
    ).toEqual([]);
  });

  it('report upward imports, cycles, seed apps off the public API, and a Lambda entry that reaches the local runner', () => {
    expect(
      violations({
        'src/runtime/model.ts': "import { sink } from '../sinks/sink';\nexport const model = sink;\n",
        'src/sinks/sink.ts': "import { model } from '../runtime/model';\nexport const sink = model;\n",
        'src/local/replay.ts': 'export const replay = 1;\n',
        'src/app/app.ts': "import { replay } from '../local/replay';\nexport const app = replay;\n",
        'src/index.ts': "export { app } from './app/app';\n",
        'src/seed/scores.ts': "import { model } from '../runtime/model';\nexport const scores = model;\n",
        'src/cli/main.ts': "import { scores } from '../seed/scores';\nexport const main = scores;\n",
      }),
    ).toEqual([
      'app-points-down',
      'lambda-entry-starts-no-java',
      'no-circular',
      'only-the-cli-list-names-seed-apps',
      'runtime-points-down',
      'seed-uses-the-public-api',
    ]);
  });
});
