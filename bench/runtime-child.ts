/** The runtime benchmark's child process: measures the workload and contract the runner names, and sends the report. */
import { measureRuntime, type RuntimeOptions } from './runtime';

measureRuntime(JSON.parse(process.argv[2] ?? '{}') as RuntimeOptions)
  .then((report) => process.send?.(report))
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
