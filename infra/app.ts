/**
 * The CDK app of the seed systems. `npm run synth` runs it: cdk-nag's AwsSolutions checks, then cdk.out (the
 * functions bundled with esbuild, offline and without credentials), then every warning or error the stacks carry,
 * printed as the CDK CLI would. Deploy with the aws-cdk CLI (not a dependency):
 * `npx aws-cdk deploy --app cdk.out --all`.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { join } from 'node:path';
import { SeedAppsStack } from './seed-apps-stack';
import { SeedSourcesStack } from './seed-sources-stack';

/**
 * Context of every seed app. The apps stack references the sources stack's tables and streams; "strong" keeps
 * CloudFormation exports, so the sources stack cannot drop a resource an app still uses.
 */
export const SEED_CONTEXT = { '@aws-cdk/core:defaultCrossStackReferences': 'strong' };

/** The seed stacks in `app`. */
export function addSeedStacks(app: App): { sources: SeedSourcesStack; apps: SeedAppsStack } {
  const sources = new SeedSourcesStack(app, 'ShardflowSeedSources');
  return { sources, apps: new SeedAppsStack(app, 'ShardflowSeedApps', { sources }) };
}

if (require.main === module) {
  // The CDK CLI names the output folder; run directly, the app writes to the repository's cdk.out.
  const app = new App({ outdir: process.env.CDK_OUTDIR ?? join(__dirname, '..', 'cdk.out'), context: SEED_CONTEXT });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  addSeedStacks(app);
  const assembly = app.synth();
  const problems = assembly.stacks.flatMap((stack) => stack.messages.filter((message) => message.level !== 'info'));
  for (const { level, id, entry } of problems) process.stderr.write(`[${level} at ${id}] ${String(entry.data)}\n`);
  if (problems.some(({ level }) => level === 'error')) process.exitCode = 1;
  else process.stdout.write(`Synthesized ${assembly.stacks.map((stack) => stack.stackName).join(', ')} to ${assembly.directory}\n`);
}
