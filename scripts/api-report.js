/**
 * The public surface of every package entry, as API Extractor reports in api/ (one per entry). `npm test` runs it
 * in check mode: a surface that differs from its report fails, so a change to the public API is made on purpose,
 * by running `npm run api:update` and committing the new report with the change. Needs `npm run build` first.
 */
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Extractor, ExtractorConfig } = require('@microsoft/api-extractor');

const root = join(__dirname, '..');
const pkg = require(join(root, 'package.json'));
const update = process.argv.includes('--update');

/**
 * Every `exports` entry that has types, as [report name, .d.ts path]. A type an entry mentions but does not export
 * must be exported by another entry (users import it from there); a type no entry exports is an error.
 */
const entries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object' && target.types !== undefined)
  .map(([subpath, target]) => [subpath === '.' ? 'shardflow' : `shardflow-${subpath.slice(2)}`, join(root, target.types)]);

const FORGOTTEN = /The symbol "(\w+)" needs to be exported/;
const EXPORTED = /^export (?:declare )?(?:const|function|class|interface|type|enum) (\w+)/gm;
const exported = new Set();
const mentioned = new Map();
let failed = false;
for (const [name, typesFile] of entries) {
  if (!existsSync(typesFile)) throw new Error(`${typesFile} does not exist: run npm run build first.`);
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: typesFile,
      bundledPackages: [],
      compiler: { tsconfigFilePath: join(root, 'tsconfig.build.json') },
      apiReport: { enabled: true, reportFileName: `${name}.api.md`, reportFolder: join(root, 'api'), reportTempFolder: join(root, 'dist', 'api-temp') },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: 'error' } },
        extractorMessageReporting: {
          default: { logLevel: 'warning' },
          // A type an entry mentions but does not export: checked below against every entry's exports.
          'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: false },
          'ae-missing-release-tag': { logLevel: 'none' },
          'ae-undocumented': { logLevel: 'none', addToApiReportFile: false },
          'ae-internal-missing-underscore': { logLevel: 'none' },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
      },
    },
    configObjectFullPath: join(root, 'api', `${name}.json`),
    packageJsonFullPath: join(root, 'package.json'),
  });
  const forgotten = [];
  const result = Extractor.invoke(config, {
    localBuild: update,
    showVerboseMessages: false,
    messageCallback: (message) => {
      if (message.messageId !== 'ae-forgotten-export') return;
      forgotten.push(FORGOTTEN.exec(message.text)?.[1] ?? message.text);
      message.handled = true;
    },
  });
  const report = readFileSync(join(root, update ? 'api' : join('dist', 'api-temp'), `${name}.api.md`), 'utf8');
  for (const match of report.matchAll(EXPORTED)) exported.add(match[1]);
  mentioned.set(name, forgotten);
  if (!result.succeeded) {
    failed = true;
    console.error(
      result.apiReportChanged
        ? `The public API of ${name} changed (see dist/api-temp/${name}.api.md). If on purpose, run npm run api:update and commit api/${name}.api.md.`
        : `API Extractor found ${result.errorCount} error(s) in ${name}.`,
    );
  }
}
for (const [name, symbols] of mentioned) {
  const unnamed = [...new Set(symbols.filter((symbol) => !exported.has(symbol)))];
  if (unnamed.length > 0) {
    failed = true;
    console.error(`${name} mentions types no entry exports, so users cannot name them: ${unnamed.join(', ')}.`);
  }
}
// Set, not exit(): an exit now could cut off the errors written to a piped stderr.
process.exitCode = failed ? 1 : 0;
