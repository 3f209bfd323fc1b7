import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureReport } from '../../src/cli/dashboard-command';
import { captureOutput } from '../helpers/output';
import { runBatches } from './handler-metrics';

describe('--report', () => {
  const folder = mkdtempSync(join(tmpdir(), 'shardflow-capture-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('writes the dashboard of what the handlers printed during the run, which still reaches stdout', async () => {
    const printed = captureOutput();
    let path: string;
    try {
      const report = captureReport(join(folder, 'nested', 'run.html'), 'a test run');
      await runBatches('captured', 4);
      path = await report.finish();
      // Stopped: later output is not collected.
      await runBatches('after', 1);
    } finally {
      printed.restore();
    }
    const emf = printed.lines().filter((line) => '_aws' in line);
    expect(emf.map((line) => line.service)).toEqual(['captured', 'captured', 'captured', 'captured', 'captured', 'after', 'after']);
    const page = readFileSync(path, 'utf8');
    expect(path).toBe(join(folder, 'nested', 'run.html'));
    expect(page).toContain('<h2>captured</h2>');
    expect(page).not.toContain('<h2>after</h2>');
    expect(page).toContain('a test run');
  });
});
