import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEED_CONTEXT, addSeedStacks } from '../../infra/app';
import { seedApps } from '../../src/seed';
import { deployedHandlers, exportedFunctions } from '../cdk/bundle-handlers';
import { NO_BUNDLING } from '../cdk/checkout-stack';
import { nagViolations } from '../cdk/template-helpers';

const ROOT = join(__dirname, '..', '..');

describe('the seed stacks', () => {
  const app = new App({ context: { ...SEED_CONTEXT, ...NO_BUNDLING } });
  const { sources, apps } = addSeedStacks(app);
  const sourcesTemplate = Template.fromStack(sources);
  const appsTemplate = Template.fromStack(apps);

  it('keep the sources in their own stack and map the apps onto them', () => {
    sourcesTemplate.resourceCountIs('AWS::Kinesis::Stream', 2);
    const sourceTables = new Set(seedApps.flatMap((seed) => seed.sources.tables.map((table) => table.TableName)));
    sourcesTemplate.resourceCountIs('AWS::DynamoDB::Table', sourceTables.size);
    for (const name of sourceTables) sourcesTemplate.hasResourceProperties('AWS::DynamoDB::Table', { TableName: name, StreamSpecification: Match.anyValue() });
    appsTemplate.resourceCountIs('AWS::Kinesis::Stream', 0);
    const mappings = Object.values(appsTemplate.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(seedApps.reduce((count, seed) => count + seed.sources.tables.length + seed.sources.kinesisStreams.length, 0));
    for (const mapping of mappings) expect(mapping.Properties.EventSourceArn).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^ShardflowSeedSources:/) });
    appsTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 1, StartingPosition: 'LATEST' });
  });

  it('deploy every seed app through ShardflowApp and the tags routes through ShardflowHttpApi', () => {
    expect([...apps.apps.keys()].sort()).toEqual(seedApps.map((seed) => seed.name).sort());
    appsTemplate.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    appsTemplate.resourceCountIs('AWS::CloudWatch::Dashboard', seedApps.length);
  });

  it('pass cdk-nag\'s AwsSolutions checks and carry no warning', () => {
    expect(nagViolations(new AwsSolutionsChecks().validateScope(app))).toEqual([]);
    for (const stack of [sources, apps]) expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('npm run synth', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'shardflow-synth-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));
  // The real script, as on a fresh clone: bundles, runs cdk-nag, writes the assembly and prints its problems.
  const run = () => spawnSync('npm', ['run', '--silent', 'synth'], { cwd: ROOT, env: { ...process.env, CDK_OUTDIR: outdir }, encoding: 'utf8' });

  it('writes both stacks without a warning', () => {
    const { status, stdout, stderr } = run();
    expect({ status, problems: stderr.split('\n').filter((line) => /^\[(warning|error) at /.test(line)) }).toEqual({ status: 0, problems: [] });
    expect(stdout).toContain(`Synthesized ShardflowSeedSources, ShardflowSeedApps to ${outdir}`);
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, unknown> };
    expect(Object.keys(manifest.artifacts)).toEqual(expect.arrayContaining(['ShardflowSeedSources', 'ShardflowSeedApps']));
  });

  it('gives every function a handler that its bundle exports', () => {
    const handlers = deployedHandlers(outdir);
    expect(handlers).toHaveLength(seedApps.length + 1);
    for (const { handler, bundle } of handlers) {
      const [file, name] = handler.split('.') as [string, string];
      expect(exportedFunctions(bundle, file)).toContain(name);
    }
  });
});
