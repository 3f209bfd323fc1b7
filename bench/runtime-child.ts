/** The runtime benchmark's child process: measures the workload and contract the runner names, and sends the report. */
import { measureRuntime, type RuntimeOptions } from './runtime';
import { measureSchema } from './schema';

const options = JSON.parse(process.argv[2] ?? '{}') as RuntimeOptions;
(options.schema === true ? measureSchema(options) : measureRuntime(options))
  .then((report) => process.send?.(report))
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
