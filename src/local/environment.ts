/**
 * Where the CLI's DynamoDB, DynamoDB Streams and Kinesis clients point: embedded services on loopback (the
 * default), an endpoint given on the command line (LocalStack, a long-running DynamoDB Local), or AWS itself
 * through the SDK's usual configuration (region, credentials, AWS_ENDPOINT_URL*). Also creates the tables and
 * streams an app needs.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ResourceInUseException as KinesisResourceInUseException,
  ResourceNotFoundException as KinesisResourceNotFoundException,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { TableDefinition } from '../app/types';
import { localClientConfig } from './clients';
import { startDynamoDBLocal, startKinesalite, type LocalService } from './services';

export interface EndpointOptions {
  /** One endpoint for DynamoDB, DynamoDB Streams and Kinesis (e.g. LocalStack). */
  readonly endpoint?: string;
  /** DynamoDB and DynamoDB Streams endpoint; overrides `endpoint`. */
  readonly dynamodbEndpoint?: string;
  /** Kinesis endpoint; overrides `endpoint`. */
  readonly kinesisEndpoint?: string;
  /**
   * Use the SDK's own configuration (AWS itself, or AWS_ENDPOINT_URL*) instead of embedded services.
   * Implied for a service when its AWS_ENDPOINT_URL variable is set.
   * @default false
   */
  readonly aws?: boolean;
}

export interface LocalEnvironment {
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  /** Undefined when Kinesis was not asked for. */
  readonly kinesis: KinesisClient | undefined;
  /** Where each service is, for messages: an URL, or `aws` for the SDK's configuration. */
  readonly describe: { readonly dynamodb: string; readonly kinesis: string | undefined };
  /** Whether anything runs embedded (and therefore in memory, gone after `close`). */
  readonly embedded: boolean;
  /** Destroys the clients and stops the embedded services. */
  close(): Promise<void>;
}

function isLoopback(endpoint: string): boolean {
  const { hostname } = new URL(endpoint);
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/** Client settings for an explicit endpoint: emulators on loopback take any credentials, others use the SDK chain. */
function endpointConfig(endpoint: string): DynamoDBClientConfig {
  if (isLoopback(endpoint)) return localClientConfig(endpoint);
  // HTTP/1.1 everywhere: emulators (and proxies in front of them) rarely speak HTTP/2, which Kinesis defaults to.
  return { endpoint, requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30000 }) };
}

type Resolved = { readonly kind: 'endpoint'; readonly endpoint: string } | { readonly kind: 'aws' } | { readonly kind: 'embedded' };

function resolve(explicit: string | undefined, aws: boolean | undefined, variables: readonly string[]): Resolved {
  if (explicit !== undefined) return { kind: 'endpoint', endpoint: explicit };
  if (aws === true || variables.some((name) => (process.env[name] ?? '') !== '')) return { kind: 'aws' };
  return { kind: 'embedded' };
}

/** Opens clients as the options say, starting embedded services where no endpoint was given. */
export async function openEnvironment(options: EndpointOptions & { readonly kinesis: boolean }): Promise<LocalEnvironment> {
  const dynamo = resolve(options.dynamodbEndpoint ?? options.endpoint, options.aws, ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB']);
  const kinesis = options.kinesis
    ? resolve(options.kinesisEndpoint ?? options.endpoint, options.aws, ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_KINESIS'])
    : undefined;
  const services: LocalService[] = [];
  try {
    const [dynamoService, kinesisService] = await Promise.all([
      dynamo.kind === 'embedded' ? startDynamoDBLocal() : undefined,
      kinesis?.kind === 'embedded' ? startKinesalite() : undefined,
    ]);
    if (dynamoService !== undefined) services.push(dynamoService);
    if (kinesisService !== undefined) services.push(kinesisService);
    const dynamoEndpoint = dynamoService?.endpoint ?? (dynamo.kind === 'endpoint' ? dynamo.endpoint : undefined);
    const kinesisEndpoint = kinesisService?.endpoint ?? (kinesis?.kind === 'endpoint' ? kinesis.endpoint : undefined);
    const dynamodbClient = new DynamoDBClient(dynamoEndpoint === undefined ? {} : endpointConfig(dynamoEndpoint));
    const streamsClient = new DynamoDBStreamsClient(dynamoEndpoint === undefined ? {} : endpointConfig(dynamoEndpoint));
    const kinesisClient =
      kinesis === undefined ? undefined : new KinesisClient(kinesisEndpoint === undefined ? {} : endpointConfig(kinesisEndpoint));
    return {
      dynamodb: dynamodbClient,
      streams: streamsClient,
      kinesis: kinesisClient,
      describe: {
        dynamodb: dynamoEndpoint ?? 'aws',
        kinesis: kinesis === undefined ? undefined : (kinesisEndpoint ?? 'aws'),
      },
      embedded: services.length > 0,
      async close() {
        dynamodbClient.destroy();
        streamsClient.destroy();
        kinesisClient?.destroy();
        await Promise.all(services.map((service) => service.stop()));
      },
    };
  } catch (error) {
    await Promise.all(services.map((service) => service.stop()));
    throw error;
  }
}

/**
 * Creates the tables that are missing (with their TTL setting) and waits until they are active. Existing tables
 * are left as they are.
 */
export async function ensureTables(client: DynamoDBClient, tables: readonly TableDefinition[]): Promise<string[]> {
  const created: string[] = [];
  await Promise.all(
    tables.map(async ({ timeToLiveAttribute, ...table }) => {
      const name = table.TableName ?? '';
      try {
        await client.send(new DescribeTableCommand({ TableName: name }));
        return;
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
      try {
        await client.send(new CreateTableCommand(table));
      } catch (error) {
        // Someone else is creating it: they also set its TTL.
        if (!(error instanceof ResourceInUseException)) throw error;
        await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1 }, { TableName: name });
        return;
      }
      created.push(name);
      await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1 }, { TableName: name });
      if (timeToLiveAttribute !== undefined) {
        await client.send(
          new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { Enabled: true, AttributeName: timeToLiveAttribute } }),
        );
      }
    }),
  );
  return created.sort();
}

/** Creates the Kinesis streams that are missing (with `shardCount` shards) and waits until they are active. */
export async function ensureStreams(client: KinesisClient, names: readonly string[], shardCount = 1): Promise<string[]> {
  const created: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      try {
        await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        return;
      } catch (error) {
        if (!(error instanceof KinesisResourceNotFoundException)) throw error;
      }
      try {
        await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
        created.push(name);
      } catch (error) {
        if (!(error instanceof KinesisResourceInUseException)) throw error;
      }
      await waitUntilStreamExists({ client, maxWaitTime: 120, minDelay: 1 }, { StreamName: name });
    }),
  );
  return created.sort();
}
