/**
 * `shardflow dev`: the apps' handlers behind a local event source mapping on DynamoDB Local / kinesalite (or any
 * endpoint), plus each app's HTTP routes on loopback, until stopped. Restarting resumes from the checkpoints.
 */
import type { AppDefinition, AppEnvironment } from '../app/types';
import { errorMessage } from '../runtime/errors';
import type { StreamEvent } from '../runtime/types';
import { appMappings, prepareApps, type MappingOverrides } from './apps';
import { DynamoDBCheckpointStore } from './checkpoints';
import { openEnvironment, type EndpointOptions, type LocalEnvironment } from './environment';
import { batchInfo } from './event-source';
import { serveHttpHandler, type HttpServer } from './http';
import { LocalPoller } from './poller';
import { appendJsonLines } from './recording';
import { TotalsCollector } from './totals';

export interface DevOptions extends EndpointOptions, MappingOverrides {
  readonly apps: readonly AppDefinition[];
  /** Port of the first app's HTTP routes (the others get free ones); 0 lets the OS pick a free one. @default 0 */
  readonly port?: number;
  /** Serve the apps' HTTP routes. @default true */
  readonly http?: boolean;
  /** Append on-failure records to this JSONL file. */
  readonly dlqFile?: string;
  /** Keep faults in this JSONL file instead of the ShardflowFaults table. */
  readonly faultsFile?: string;
  /** @default 1000 */
  readonly pollIntervalMs?: number;
  /** Where messages go. @default a line on stderr */
  readonly log?: (message: string) => void;
}

export interface DevSession {
  readonly environment: LocalEnvironment;
  readonly appEnvironment: AppEnvironment;
  readonly poller: LocalPoller;
  /** The HTTP server of each app that has routes, by app name. */
  readonly http: ReadonlyMap<string, HttpServer>;
  /** What each app's handler reported so far, by app name. */
  readonly totals: ReadonlyMap<string, TotalsCollector>;
  /** Stops polling (finishing the batch in flight), the HTTP server and the embedded services. */
  stop(): Promise<void>;
}

/** Starts everything `shardflow dev` runs and resolves once the mappings are reading. */
export async function startDev(options: DevOptions): Promise<DevSession> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const needsKinesis = options.apps.some((app) => app.sources.kinesisStreams.length > 0);
  const environment = await openEnvironment({ ...options, kinesis: needsKinesis });
  const http = new Map<string, HttpServer>();
  const closeHttp = () => Promise.all([...http.values()].map((server) => server.close()));
  let poller: LocalPoller | undefined;
  try {
    const created = await prepareApps(environment, options.apps);
    if (created.tables.length > 0) log(`Created tables: ${created.tables.join(', ')}`);
    if (created.streams.length > 0) log(`Created Kinesis streams: ${created.streams.join(', ')}`);
    const checkpoints = new DynamoDBCheckpointStore(environment.dynamodb);
    await checkpoints.ensureTable();
    const appEnvironment: AppEnvironment = {
      dynamodb: environment.dynamodb,
      ...(options.faultsFile !== undefined && { faults: { file: options.faultsFile } }),
    };
    const dlqFile = options.dlqFile;
    const totals = new Map(options.apps.map((app) => [app.name, new TotalsCollector()]));
    const mappings = appMappings(options.apps, appEnvironment, options).map((mapping) => {
      const collector = totals.get(mapping.name) as TotalsCollector;
      return { ...mapping, observe: (event: StreamEvent) => collector.invocation(event) };
    });
    poller = new LocalPoller(mappings, {
      clients: { dynamodb: environment.dynamodb, streams: environment.streams, kinesis: environment.kinesis },
      checkpoints,
      pollIntervalMs: options.pollIntervalMs,
      onFailure: async (record, mapping) => {
        const info = batchInfo(record);
        log(
          `[${mapping}] retries exhausted for ${info.batchSize} record(s) of ${info.shardId} ` +
            `(${info.startSequenceNumber}..${info.endSequenceNumber}); on-failure record ${dlqFile === undefined ? 'logged' : `appended to ${dlqFile}`}.`,
        );
        if (dlqFile === undefined) log(JSON.stringify(record));
        else await appendJsonLines(dlqFile, [record]);
      },
      onError: (error, shard) => log(`[${shard}] ${errorMessage(error)} Resuming from the last checkpoint.`),
    });
    await poller.start();
    if (options.http !== false) {
      let port = options.port ?? 0;
      for (const app of options.apps) {
        if (app.http === undefined) continue;
        http.set(app.name, await serveHttpHandler(app.http(appEnvironment), { port }));
        port = 0;
      }
    }
    const running = poller;
    return {
      environment,
      appEnvironment,
      poller: running,
      http,
      totals,
      async stop() {
        await running.stop();
        await closeHttp();
        await environment.close();
      },
    };
  } catch (error) {
    await poller?.stop();
    await closeHttp();
    await environment.close();
    throw error;
  }
}
