/**
 * Memory is bounded by the batch, whatever it holds: hostile batches of at most 6 MB on the wire run through a real
 * pipeline in a child process with a 384 MB heap (`--max-old-space-size=384`) and stay within the 512 MB a
 * function gets; every record ends applied or captured, and fault capture stays proportional to the batch.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { ErrorCode } from '../../src/runtime/errors';
import { useDynamoDBLocal } from '../../src/testing';
import { Scenario, type ChildResult } from './memory-scenarios';

const MB = 1024 * 1024;
const ROOT = join(__dirname, '..', '..');

describe('memory bounded by the batch', () => {
  const ddb = useDynamoDBLocal();
  let directory: string;
  let child: string;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'shardflow-memory-'));
    child = join(directory, 'memory-child.js');
    // Bundled, so the child runs the sources under test without a TypeScript compiler in its heap.
    buildSync({ entryPoints: [join(__dirname, 'memory-child.ts')], bundle: true, platform: 'node', target: 'node20', packages: 'external', outfile: child, logLevel: 'error' });
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  function run(scenario: Scenario): ChildResult {
    const resultFile = join(directory, `${scenario}.json`);
    const { status, stderr } = spawnSync(process.execPath, ['--max-old-space-size=384', child, scenario, resultFile], {
      env: { ...process.env, SHARDFLOW_TEST_ENDPOINT: ddb.endpoint(), NODE_PATH: join(ROOT, 'node_modules'), POWERTOOLS_LOG_LEVEL: 'INFO' },
      // The log lines go nowhere; they are written all the same.
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 16 * MB,
    });
    expect({ status, stderr: stderr.split('\n').filter((line) => !/NodeVersionSupportWarning|node >=22|a\.co\/|^$|versions published|To continue|trace-warnings/.test(line)).slice(0, 20) }).toEqual({ status: 0, stderr: [] });
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as ChildResult;
    // Within Lambda's limit on the wire, and within the 512 MB the seed stack gives a function.
    expect(result.wireBytes).toBeLessThanOrEqual(6 * MB);
    expect(result.peakRssBytes).toBeLessThan(512 * MB);
    // Every record applied or captured; nothing left for Lambda to retry.
    expect(result.processed + result.faulted).toBe(result.records);
    expect(result.batchItemFailures).toBe(0);
    return result;
  }

  it('runs a 6 MB batch of gzip bombs: the records beyond the inflation budget are faults, the rest is applied', () => {
    const result = run(Scenario.GzipBatch);
    expect(result.records).toBe(72);
    expect(result.faultCodes[ErrorCode.InflationBudgetExceeded]).toBeGreaterThan(50);
    expect(result.processed).toBeGreaterThanOrEqual(9);
  });

  it('runs KPL aggregates of gzip bombs, inflating one user record at a time', () => {
    const result = run(Scenario.KplGzip);
    expect(result.records).toBe(64);
    expect(result.faultCodes[ErrorCode.InflationBudgetExceeded]).toBeGreaterThan(40);
    expect(result.processed).toBeGreaterThanOrEqual(8);
  });

  it('runs 8,700 gzip records of JSON that parses into an object for every few bytes', () => {
    const result = run(Scenario.JsonExpansion);
    expect(result.records).toBe(8_700);
    // The inflation budget admits 2,048 of them; their log lines wait for the flush as text, not as objects.
    expect(result.faultCodes[ErrorCode.InflationBudgetExceeded]).toBe(8_700 - 2_048);
  });

  it('captures 3,000 failing KPL user records with their own data, in bytes and requests proportional to the batch', () => {
    const result = run(Scenario.KplAllFail);
    expect(result).toMatchObject({ records: 3000, faulted: 3000, faultCodes: { [ErrorCode.Validation]: 3000 } });
    // Each fault keeps its own 1.2 KB user record, not its 1.2 MB aggregate.
    expect(result.faultRequestBytes).toBeLessThan(3 * result.wireBytes);
    // BatchWriteItem takes 25 items: one item per fault, and no retries needed on DynamoDB Local.
    expect(result.faultRequests).toBe(Math.ceil(3000 / 25));
  });
});
