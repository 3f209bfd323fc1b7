/**
 * `shardflow dashboard <files...> -o report.html`: the apps' dashboard (the CloudWatch dashboard's widgets) drawn
 * from EMF log lines as one HTML page; and the capture behind `--report` of replay, dev and demo.
 */
import type { Command } from 'commander';
import { EmfReader, readMetricFiles } from '../dashboard/emf-reader';
import { writeDashboardReport } from '../dashboard/report';
import { ErrorCode, ShardflowError } from '../runtime/errors';
import { divertStream } from '../local/stdout';

const log = (message: string) => process.stderr.write(`${message}\n`);

export function addDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description("draw the apps' dashboard (the CloudWatch dashboard's widgets) from EMF log lines as one self-contained HTML page")
    .argument('<files...>', 'logs with EMF lines: the output of replay, dev or npm start, or a CloudWatch Logs export (lines, or the JSON of aws logs filter-log-events)')
    .requiredOption('-o, --out <file>', 'the HTML page to write (replaced)')
    .option('--service <names...>', 'only these apps (their service names)')
    .action(async (files: string[], flags: { out: string; service?: string[] }) => {
      log(`Dashboard: ${await reportFromLogs(files, flags.out, flags.service)}`);
    });
}

/** Writes the report of the EMF lines in `files` and resolves to its path; no metrics at all is an error. */
export async function reportFromLogs(files: readonly string[], output: string, services?: readonly string[]): Promise<string> {
  const samples = await readMetricFiles(files);
  if (samples.length === 0) throw new ShardflowError(ErrorCode.InvalidOptions, `No shardflow metrics (EMF lines in namespace "shardflow") in ${files.join(', ')}.`);
  return writeDashboardReport({ samples, output, sources: files, ...(services !== undefined && { services }) });
}

/** The EMF lines a run prints, collected for its report while they still reach stdout. */
export interface ReportCapture {
  /** Stops collecting, writes the report and resolves to its path. */
  finish(): Promise<string>;
  /** Stops collecting without a report (the run failed). */
  stop(): void;
}

/** Starts collecting what is written to stdout; `source` names the run on the page. */
export function captureReport(output: string, source: string): ReportCapture {
  const reader = new EmfReader();
  const tee = divertStream(process.stdout, (chunk) => {
    reader.push(chunk);
    void tee.write(chunk);
  });
  return {
    finish: () => {
      tee.restore();
      return writeDashboardReport({ samples: reader.end(), output, sources: [source] });
    },
    stop: () => tee.restore(),
  };
}

/** The `--report <file>` option of a command that runs handlers. */
export function withReportOption(command: Command): Command {
  return command.option('--report <file>', "write the run's dashboard (from the handlers' EMF lines) to this HTML file");
}
