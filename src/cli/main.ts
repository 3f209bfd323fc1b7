#!/usr/bin/env node
/**
 * The `shardflow` command line: replay recordings through an app's handler, run the apps locally against
 * stream APIs (dev), record a stream into a replayable file, and the end-to-end demo behind `npm start`.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { writeFile } from 'node:fs/promises';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { AppDefinition } from '../app/types';
import { ErrorCode, ShardflowError, errorMessage } from '../runtime/errors';
import { jsonText } from '../runtime/json-text';
import type { StreamHandler } from '../runtime/types';
import { startDev } from '../local/dev';
import { openEnvironment, type EndpointOptions } from '../local/environment';
import { batchInfo, type EventSourceMappingOptions } from '../local/event-source';
import { progressBar } from '../local/progress';
import { recordStream } from '../local/recorder';
import { countDeliveries } from '../local/recording';
import { replay, type ReplaySummary } from '../local/replay';
import { stdoutToStderr } from '../local/stdout';
import { openDynamoDBStream, openKinesisStream, type StreamReader } from '../local/streams';
import { unroutedWarning, type RunTotals } from '../local/totals';
import { BUILTIN_APP_NAMES, runSeedDemo } from './builtin-apps';
import { addDashboardCommand, captureReport, reportFromLogs, withReportOption } from './dashboard-command';
import { loadApp, loadHandler } from './load';

function integer(min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`Expected an integer from ${min} to ${max}.`);
    }
    return parsed;
  };
}

const log = (message: string) => process.stderr.write(`${message}\n`);

interface EndpointFlags {
  endpoint?: string;
  dynamodbEndpoint?: string;
  kinesisEndpoint?: string;
  aws?: boolean;
}

function endpointOptions(flags: EndpointFlags): EndpointOptions {
  return {
    ...(flags.endpoint !== undefined && { endpoint: flags.endpoint }),
    ...(flags.dynamodbEndpoint !== undefined && { dynamodbEndpoint: flags.dynamodbEndpoint }),
    ...(flags.kinesisEndpoint !== undefined && { kinesisEndpoint: flags.kinesisEndpoint }),
    ...(flags.aws === true && { aws: true }),
  };
}

function withEndpointOptions(command: Command): Command {
  return command
    .option('--endpoint <url>', 'one endpoint for DynamoDB, DynamoDB Streams and Kinesis (instead of embedded services)')
    .option('--dynamodb-endpoint <url>', 'DynamoDB and DynamoDB Streams endpoint')
    .option('--kinesis-endpoint <url>', 'Kinesis endpoint')
    .option('--aws', "use the AWS SDK's configuration (AWS itself, or AWS_ENDPOINT_URL*) instead of embedded services");
}

interface InvocationFlags {
  maxRetries?: number;
  bisect?: boolean;
  timeout?: number;
}

/** The flags given; what is not given comes from the app's event source settings (or the emulation's defaults). */
function invocationOptions(flags: InvocationFlags): EventSourceMappingOptions {
  return {
    ...(flags.maxRetries !== undefined && { maxRetries: flags.maxRetries }),
    ...(flags.bisect !== undefined && { bisectBatchOnFunctionError: flags.bisect }),
    ...(flags.timeout !== undefined && { timeoutMs: flags.timeout }),
  };
}

function withInvocationOptions(command: Command): Command {
  return command
    .option('--max-retries <n>', "retries of a failed batch before its on-failure record is written (default: the app's)", integer(0, 10_000))
    .option('--bisect', "split a batch that failed as a whole in two and retry the halves (default: the app's)")
    .option('--no-bisect', 'do not split failed batches')
    .option('--timeout <ms>', 'function timeout in milliseconds (default 60000)', integer(1, 900_000));
}

const APP_HELP = `a built-in app (${BUILTIN_APP_NAMES.join(', ')}) or a module whose default export (or #export) is an app definition, e.g. ./src/app.ts`;

function describeTotals(totals: RunTotals): string {
  return (
    `Totals over ${totals.batches} batches: ${totals.recordsIn} records in, ${totals.processed} processed, ` +
    `${totals.unrouted} unrouted, ${totals.failed} failed, ${totals.skipped} skipped, ${totals.notStarted} not started, ` +
    `${totals.faulted} faulted; sinks: ${totals.sinkRequests} requests, ${totals.duplicatesSkipped} duplicates skipped.`
  );
}

/**
 * A bare handler makes its own clients, so it is pointed at the tables through the SDK's environment variables;
 * emulators on loopback accept any credentials.
 */
function pointSdkAt(flags: EndpointFlags): void {
  if (flags.aws === true) return;
  const endpoint = flags.dynamodbEndpoint ?? flags.endpoint;
  if (endpoint === undefined) {
    throw new ShardflowError(
      ErrorCode.InvalidOptions,
      '--handler replays against existing tables: give --endpoint (or --dynamodb-endpoint) where they are, or --aws.',
    );
  }
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  if (flags.kinesisEndpoint ?? flags.endpoint) process.env.AWS_ENDPOINT_URL_KINESIS = flags.kinesisEndpoint ?? flags.endpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  if (['127.0.0.1', 'localhost', '[::1]'].includes(new URL(endpoint).hostname)) {
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  }
}

function printSummary(summary: ReplaySummary): void {
  const lines = [
    `Replayed ${summary.deliveries} deliveries (${summary.records} records${summary.filtered > 0 ? `, ${summary.filtered} dropped by the app's filters` : ''}) through ${summary.app}: ` +
      `${summary.invocations} invocations, ${summary.batchItemFailures} batch item failures, ${summary.functionErrors} failed invocations.`,
    describeTotals(summary.totals),
    `Faults captured: ${summary.faults.length}`,
    ...summary.faults.map((fault) => `  ${fault.recordId} [${fault.stage}] ${fault.error.code}: ${fault.error.message}`),
    `On-failure records: ${summary.dlq.length}`,
    ...summary.dlq.map((record) => {
      const info = batchInfo(record);
      return `  ${info.batchSize} record(s) of ${info.shardId}, ${info.startSequenceNumber}..${info.endSequenceNumber}`;
    }),
  ];
  for (const [table, items] of Object.entries(summary.tables)) {
    lines.push(`Table ${table} (${items.length} items):`, ...items.map((item) => `  ${JSON.stringify(item)}`));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Resolves on the first SIGINT or SIGTERM. */
function interrupted(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function buildProgram(): Command {
  const program = new Command('shardflow')
    .description('Process Kinesis and DynamoDB Streams batches: replay recordings, run locally, record streams.')
    .showHelpAfterError();

  const replayCommand = withInvocationOptions(
    withEndpointOptions(
      program
        .command('replay')
        .description("replay recorded deliveries through an app's real handler, emulating the event source mapping")
        .argument('<recording...>', 'JSONL files (one Lambda event per line) or .json files (one event)')
        .option('--app <name-or-module>', APP_HELP)
        .option('--handler <module#export>', 'a bare Lambda handler instead of an app, replayed against existing tables (needs --endpoint or --aws)')
        .option('--table <names...>', 'with --handler: tables to list in the summary')
        .option('--dlq <file>', 'append on-failure records to this JSONL file')
        .option('--faults <file>', 'keep captured faults in this JSONL file')
        .option('--json', 'print one JSON document on stdout (logs go to stderr)'),
    ),
  );
  withReportOption(replayCommand).action(
    async (
      recordings: string[],
      flags: EndpointFlags & InvocationFlags & { app?: string; handler?: string; table?: string[]; dlq?: string; faults?: string; json?: boolean; report?: string },
    ) => {
      if ((flags.app === undefined) === (flags.handler === undefined)) {
        throw new ShardflowError(ErrorCode.InvalidOptions, 'Give exactly one of --app and --handler.');
      }
      // Handlers log to stdout; with --json, stdout must carry the summary only.
      const diverted = flags.json === true ? stdoutToStderr() : undefined;
      const report = flags.report === undefined ? undefined : captureReport(flags.report, `replay of ${recordings.join(', ')}`);
      try {
        if (flags.handler !== undefined) pointSdkAt(flags);
        const target: { app: AppDefinition } | { handler: StreamHandler; name: string; tables: string[] } =
          flags.app !== undefined
            ? { app: await loadApp(flags.app) }
            : { handler: await loadHandler(flags.handler as string), name: flags.handler as string, tables: flags.table ?? [] };
        const environment = await openEnvironment({ ...endpointOptions(flags), kinesis: false });
        try {
          // Counting reads every recording once more: only worth it when a progress bar can show.
          const showProgress = flags.json !== true && process.stderr.isTTY;
          const total = showProgress ? await countDeliveries(recordings) : 0;
          const label = 'app' in target ? target.app.name : target.name;
          const progress = progressBar({ total, label: `replay ${label}`, disabled: !showProgress || total <= 5 });
          const summary = await replay({
            ...target,
            recordings,
            dynamodb: environment.dynamodb,
            invocation: invocationOptions(flags),
            ...(flags.dlq !== undefined && { dlqFile: flags.dlq }),
            ...(flags.faults !== undefined && 'app' in target && { faultsFile: flags.faults }),
            onDelivery: (done, records) => progress.update(done, `${records} records`),
          });
          progress.finish();
          if (diverted !== undefined) {
            // Faults hold records as delivered, which may nest deeper than JSON.stringify can go.
            await diverted.write(`${jsonText(summary)}\n`);
          } else {
            printSummary(summary);
            const warning = unroutedWarning(summary.unrouted);
            if (warning !== undefined) log(warning);
          }
          if (report !== undefined) log(`Dashboard: ${await report.finish()}`);
          if (summary.totals.notStarted > 0) {
            log(
              `Warning: ${summary.totals.notStarted} records were not started before the deadline; the function timeout ` +
                "(--timeout) leaves too little time beyond the handler's deadline margin.",
            );
          }
        } finally {
          await environment.close();
        }
      } finally {
        report?.stop();
        diverted?.restore();
      }
    },
  );

  const devCommand = withInvocationOptions(
    withEndpointOptions(
      program
        .command('dev')
        .description('run the apps against DynamoDB Streams and Kinesis shards like Lambda event source mappings, until stopped')
        .requiredOption('--app <names-or-modules...>', `the apps to run: each ${APP_HELP}`)
        .option('--port <n>', "port of the first app's HTTP routes (default: a free one)", integer(0, 65_535))
        .option('--batch-size <n>', "records per invocation (default: each app's own)", integer(1, 10_000))
        .option('--batching-window <ms>', 'gather records this long before invoking with a batch that is not full', integer(0, 300_000))
        .addOption(new Option('--starting-position <position>', "where shards without a checkpoint start (default: each app's own)").choices(['TRIM_HORIZON', 'LATEST']))
        .option('--poll-interval <ms>', 'wait between polls of a shard that had no new records', integer(10, 60_000), 1000)
        .option('--dlq <file>', 'append on-failure records to this JSONL file')
        .option('--faults <file>', 'keep captured faults in this JSONL file instead of the ShardflowFaults table'),
    ),
  );
  withReportOption(devCommand).action(
    async (
      flags: EndpointFlags &
        InvocationFlags & {
          app: string[];
          port?: number;
          batchSize?: number;
          batchingWindow?: number;
          startingPosition?: 'TRIM_HORIZON' | 'LATEST';
          pollInterval: number;
          dlq?: string;
          faults?: string;
          report?: string;
        },
    ) => {
      log('Starting...');
      const report = flags.report === undefined ? undefined : captureReport(flags.report, `dev run of ${flags.app.join(', ')}`);
      const session = await startDev({
        ...endpointOptions(flags),
        apps: await Promise.all(flags.app.map(loadApp)),
        ...(flags.port !== undefined && { port: flags.port }),
        ...(flags.batchSize !== undefined && { batchSize: flags.batchSize }),
        ...(flags.batchingWindow !== undefined && { batchingWindowMs: flags.batchingWindow }),
        ...(flags.startingPosition !== undefined && { startingPosition: flags.startingPosition }),
        invocation: invocationOptions(flags),
        pollIntervalMs: flags.pollInterval,
        ...(flags.dlq !== undefined && { dlqFile: flags.dlq }),
        ...(flags.faults !== undefined && { faultsFile: flags.faults }),
        log,
      });
      const { describe } = session.environment;
      log(`DynamoDB: ${describe.dynamodb}${describe.kinesis === undefined ? '' : `, Kinesis: ${describe.kinesis}`}`);
      for (const [app, server] of session.http) log(`HTTP routes of ${app}: ${server.url}`);
      log(`Polling for apps ${[...session.totals.keys()].join(', ')}. Ctrl-C stops; a restart resumes from the checkpoints.`);
      const signal = await interrupted();
      log(`${signal}: finishing the batches in flight...`);
      await session.stop();
      // Read after stop(): it finishes the batches in flight, which count too.
      const stats = session.poller.stats();
      log(`Stopped after ${stats.records} records (${stats.filtered} dropped by filters) in ${stats.invocations} invocations.`);
      for (const [app, collector] of session.totals) {
        log(`${app}: ${describeTotals(collector.totals())}`);
        const warning = unroutedWarning(collector.unrouted());
        if (warning !== undefined) log(`${app}: ${warning}`);
      }
      if (report !== undefined) log(`Dashboard: ${await report.finish()}`);
    },
  );

  program
    .command('record')
    .description('capture Kinesis or DynamoDB streams (one, or every source of an app) into a JSONL recording that replay accepts')
    .option('--kinesis-stream <name>', 'a Kinesis stream')
    .option('--table <name>', "a DynamoDB table (its latest stream)")
    .option('--stream-arn <arn>', 'a DynamoDB stream ARN')
    .option('--app <name-or-module>', `every stream the app consumes: ${APP_HELP}`)
    .requiredOption('-o, --out <file>', 'the recording to write (replaced)')
    .addOption(new Option('--from <position>', 'where to start on every shard').choices(['TRIM_HORIZON', 'LATEST']).default('TRIM_HORIZON'))
    .option('--batch-size <n>', 'records per line (delivery) at most', integer(1, 10_000), 100)
    .option('--follow', 'keep recording new records until Ctrl-C (default: stop once caught up)')
    .option('--max-records <n>', 'stop after this many records (of each stream, with --app)', integer(1, Number.MAX_SAFE_INTEGER))
    .option('--endpoint <url>', "the Kinesis and DynamoDB endpoint (default: the AWS SDK's configuration, i.e. AWS)")
    .option('--dynamodb-endpoint <url>', 'the DynamoDB and DynamoDB Streams endpoint; overrides --endpoint')
    .option('--kinesis-endpoint <url>', 'the Kinesis endpoint; overrides --endpoint')
    .action(
      async (flags: EndpointFlags & {
        kinesisStream?: string;
        table?: string;
        streamArn?: string;
        app?: string;
        out: string;
        from: 'TRIM_HORIZON' | 'LATEST';
        batchSize: number;
        follow?: boolean;
        maxRecords?: number;
      }) => {
        const given = [flags.kinesisStream, flags.table, flags.streamArn, flags.app].filter((value) => value !== undefined);
        if (given.length !== 1) throw new InvalidArgumentError('Give exactly one of --kinesis-stream, --table, --stream-arn and --app.');
        const app = flags.app === undefined ? undefined : await loadApp(flags.app);
        const sources = {
          kinesisStreams: app?.sources.kinesisStreams ?? (flags.kinesisStream === undefined ? [] : [flags.kinesisStream]),
          tables: app?.sources.tables.map((table) => table.TableName as string) ?? (flags.table === undefined ? [] : [flags.table]),
          streamArns: flags.streamArn === undefined ? [] : [flags.streamArn],
        };
        // Recording reads streams that exist: AWS by default, never freshly started (empty) emulators.
        const environment = await openEnvironment({ ...endpointOptions(flags), aws: true, kinesis: sources.kinesisStreams.length > 0 });
        const abort = new AbortController();
        void interrupted().then(() => abort.abort());
        try {
          const clients = { dynamodb: environment.dynamodb, streams: environment.streams };
          const readers: StreamReader[] = await Promise.all([
            ...sources.kinesisStreams.map((name) => openKinesisStream(environment.kinesis as KinesisClient, name)),
            ...sources.tables.map((tableName) => openDynamoDBStream(clients, { tableName })),
            ...sources.streamArns.map((streamArn) => openDynamoDBStream(clients, { streamArn })),
          ]);
          for (const reader of readers) {
            log(`Recording ${reader.streamArn} from ${flags.from}${flags.follow === true ? ' until Ctrl-C' : ' until caught up'}...`);
          }
          await writeFile(flags.out, '', 'utf8');
          // Each reader's progress so far; the streams are read side by side into one recording.
          const progress = readers.map(() => ({ records: 0, lines: 0 }));
          const results = await Promise.all(
            readers.map((reader, index) =>
              recordStream({
                reader,
                output: flags.out,
                append: true,
                from: flags.from,
                batchSize: flags.batchSize,
                follow: flags.follow === true,
                signal: abort.signal,
                ...(flags.maxRecords !== undefined && { maxRecords: flags.maxRecords }),
                onProgress: (records, lines) => {
                  progress[index] = { records, lines };
                  const sum = (key: 'records' | 'lines') => progress.reduce((total, entry) => total + entry[key], 0);
                  if (process.stderr.isTTY) process.stderr.write(`\r${sum('records')} records, ${sum('lines')} deliveries`);
                },
              }),
            ),
          );
          if (process.stderr.isTTY) process.stderr.write('\n');
          const total = (key: 'records' | 'lines' | 'shards') => results.reduce((sum, result) => sum + result[key], 0);
          log(`Wrote ${total('records')} records in ${total('lines')} deliveries from ${total('shards')} shard(s) to ${flags.out}.`);
        } finally {
          await environment.close();
        }
      },
    );

  program
    .command('demo')
    .description('start embedded services, drive traffic through every app, process it with the local poller and check the results')
    .option('--scale <n>', 'multiply the traffic', integer(1, 100), 1)
    .option('--log-file <file>', "where the apps' log lines go", '.shardflow/demo.log')
    .option('--report <file>', "where the run's dashboard goes (drawn from the log file's EMF lines)", '.shardflow/demo-report.html')
    .action(async (flags: { scale: number; logFile: string; report: string }) => {
      const result = await runSeedDemo({ scale: flags.scale, logFile: flags.logFile });
      process.stdout.write(`Dashboard of the run: ${await reportFromLogs([flags.logFile], flags.report)}\n`);
      process.exitCode = result.ok ? 0 : 1;
    });

  addDashboardCommand(program);

  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.stderr.write(`shardflow: ${errorMessage(error)}\n`);
      process.exitCode = 1;
    });
}
