/** `defineApp`: checks, defaults, the tables an app needs, its handler, and its Lambda entry on DynamoDB Local. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { checkAppDefinition, defineApp } from '../../src/app/definition';
import { LambdaEnvironment, lambdaHandler } from '../../src/app/lambda';
import type { AppSpec, TableDefinition } from '../../src/app/types';
import { createLocalContext, dumpTable, ensureTables, localClientConfig } from '../../src/local/index';
import { ExactlyOnceMode, ValidationError, provenanceOf, type AddEffect, type LogEffect, type Processor, type Sink } from '../../src/index';
import { DynamoDBFaultSink } from '../../src/sinks/dynamodb-faults';
import { kinesisEvent, kinesisRecord } from '../helpers/factories';
import { useDynamoDBLocal } from '../../src/testing';

const table = (name: string, stream?: 'NEW_AND_OLD_IMAGES'): TableDefinition => ({
  TableName: name,
  KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST',
  ...(stream !== undefined && { StreamSpecification: { StreamEnabled: true, StreamViewType: stream } }),
});

const counter: Processor<AddEffect> = {
  name: 'counter',
  select: { streams: ['clicks'] },
  process(record) {
    const click = record.source === 'aws:kinesis' ? (record.payload.json() as { id?: unknown }) : {};
    if (typeof click.id !== 'string') throw new ValidationError(`Record ${record.recordId} has no id.`);
    return [{ type: 'add', provenance: provenanceOf(record), table: 'Clicks', key: { id: click.id }, add: { n: 1 } }];
  },
};

const spec: AppSpec<AddEffect> = { name: 'clicks', sources: { kinesisStreams: ['clicks'] }, outputs: [table('Clicks')], processors: [counter] };

describe('defineApp', () => {
  it('fills in the event source defaults and lists every table once: sources, outputs, markers, faults', () => {
    const app = defineApp({ ...spec, sources: { tables: [table('Carts', 'NEW_AND_OLD_IMAGES')], kinesisStreams: ['clicks'] }, tables: [table('Carts')] });
    expect(app.eventSource).toEqual({
      batchSize: 100,
      startingPosition: 'TRIM_HORIZON',
      maxBatchingWindowSeconds: 0,
      retryAttempts: 5,
      bisectBatchOnError: true,
      maxRecordAgeSeconds: 86_400,
      filters: {},
    });
    expect(app.tables.map((t) => t.TableName)).toEqual(['Carts', 'Clicks', 'ShardflowMarkers', 'ShardflowFaults']);
    expect(app.tables.find((t) => t.TableName === 'ShardflowMarkers')?.timeToLiveAttribute).toBe('expiresAt');
    expect(app.markerTable).toBe('ShardflowMarkers');
  });

  it('applies effects exactly once with markers unless told to keep a checkpoint per shard', () => {
    expect(defineApp(spec).exactlyOnce).toBe(ExactlyOnceMode.Markers);
    expect(defineApp({ ...spec, exactlyOnce: ExactlyOnceMode.Checkpoint }).exactlyOnce).toBe(ExactlyOnceMode.Checkpoint);
  });

  it('needs no marker table without outputs, or with sinks of its own', () => {
    expect(defineApp({ ...spec, outputs: [] }).markerTable).toBeUndefined();
    const own = defineApp({ ...spec, sinks: () => [] });
    expect(own.markerTable).toBeUndefined();
    expect(own.tables.map((t) => t.TableName)).toEqual(['Clicks', 'ShardflowFaults']);
  });

  it.each([
    ['a missing name', { ...spec, name: undefined }, 'defineApp: option "name" is required.'],
    ['a name that cannot name resources', { ...spec, name: 'my app' }, 'option "name" must be a letter followed by up to 63 letters, digits or hyphens, got "my app"'],
    ['no sources', { ...spec, sources: {} }, 'names no table and no Kinesis stream'],
    ['a source table without a stream', { ...spec, sources: { tables: [table('Carts')] } }, 'source table Carts needs a StreamSpecification'],
    ['no processors', { ...spec, processors: [] }, 'option "processors" must be a non-empty list of processors, got an array'],
    ['an unknown key', { ...spec, output: [] }, 'unknown option "output"'],
    ['a batch size beyond Lambda', { ...spec, eventSource: { batchSize: 20_000 } }, 'eventSource: option "batchSize" must be an integer from 1 to 10000, got 20000'],
    ['a table defined twice', { ...spec, tables: [{ ...table('Clicks'), KeySchema: [{ AttributeName: 'other', KeyType: 'HASH' }] }] }, 'table Clicks is defined twice'],
    ['an exactly-once mode it does not know', { ...spec, exactlyOnce: 'checkpoints' }, 'option "exactlyOnce" must be one of "markers", "checkpoint", got "checkpoints"'],
  ])('rejects %s, naming the app and the field', (_case, given, message) => {
    expect(() => defineApp(given as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining(message) }));
  });

  it('tells a definition from a look-alike, naming every missing field', () => {
    expect(checkAppDefinition(defineApp(spec), 'app.ts')).toMatchObject({ name: 'clicks' });
    expect(() => checkAppDefinition({ name: 'x', createHandler: () => undefined }, 'app.ts#x')).toThrow(
      "app.ts#x: not an app definition (make it with defineApp from 'shardflow'): missing or wrong sources (object), outputs (object), tables (object), eventSource (object), faultTable (string), deadlineMarginMs (number).",
    );
    expect(() => checkAppDefinition(undefined, 'app.ts')).toThrow("app.ts: expected an app definition (made with defineApp from 'shardflow'), got undefined.");
  });

  it('builds its handler with the sinks it is given, and their effects', async () => {
    const logged: LogEffect[] = [];
    const logSink: Sink<LogEffect> = {
      name: 'memory-log',
      accepts: (effect): effect is LogEffect => effect.type === 'log',
      async apply(batch) {
        logged.push(...batch.flatMap((entry) => entry.effects));
        return { failed: [] };
      },
    };
    const echo: Processor<LogEffect> = {
      name: 'echo',
      select: {},
      process: (record) => [{ type: 'log', provenance: provenanceOf(record), level: 'INFO', message: record.recordId, fields: {} }],
    };
    const app = defineApp<LogEffect>({ name: 'echo', sources: { kinesisStreams: ['clicks'] }, processors: [echo], sinks: () => [logSink] });
    const handler = app.createHandler({ dynamodb: new DynamoDBClient({ region: 'us-east-1' }), faults: { file: '/dev/null' } });
    const event = kinesisEvent([kinesisRecord({ streamName: 'clicks' })]);
    await expect(handler(event, createLocalContext({ functionName: 'echo', region: 'us-east-1', timeoutMs: 60_000 }))).resolves.toEqual({
      batchItemFailures: [],
    });
    expect(logged.map((effect) => effect.message)).toEqual([event.Records[0].eventID]);
  });
});

describe('lambdaHandler', () => {
  const ddb = useDynamoDBLocal();

  it('builds the handler on first use, with the tables the deployment names in its environment', async () => {
    const client = new DynamoDBClient(localClientConfig(ddb.endpoint()));
    const app = defineApp(spec);
    const faultTable = 'DeployedFaults';
    const markerTable = 'DeployedMarkers';
    // The deployment's tables, under other names than the app's defaults.
    await ensureTables(client, defineApp({ ...spec, markerTable, faultTable }).tables);
    const saved = { ...process.env };
    // The SDK's default client, as on Lambda, pointed at DynamoDB Local by the standard variables.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint(),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      [LambdaEnvironment.FaultTable]: faultTable,
      [LambdaEnvironment.MarkerTable]: markerTable,
    });
    try {
      const handler = lambdaHandler(app);
      const event = kinesisEvent([kinesisRecord({ streamName: 'clicks', json: { id: 'a' } }), kinesisRecord({ streamName: 'clicks', json: {} })]);
      await handler(event, createLocalContext({ functionName: 'clicks', region: 'us-east-1', timeoutMs: 60_000 }));
      expect(await dumpTable(client, 'Clicks')).toEqual([{ id: 'a', n: 1 }]);
      expect((await dumpTable(client, markerTable)).length).toBe(1);
      const faults = await new DynamoDBFaultSink({ client, table: faultTable }).listFaults();
      expect(faults.map((fault) => fault.recordId)).toEqual([event.Records[1].eventID]);
    } finally {
      process.env = saved;
      client.destroy();
    }
  });

  it('keeps a checkpoint per shard instead of a marker per record in checkpoint mode', async () => {
    const client = new DynamoDBClient(localClientConfig(ddb.endpoint()));
    const app = defineApp({ ...spec, name: 'clicks-checkpoint', outputs: [table('CheckpointClicks')], markerTable: 'CheckpointMarkers', exactlyOnce: ExactlyOnceMode.Checkpoint,
      processors: [{ ...counter, process: (record, context) => (counter.process(record, context) as AddEffect[]).map((effect) => ({ ...effect, table: 'CheckpointClicks' })) }] });
    await ensureTables(client, app.tables);
    try {
      const handler = app.createHandler({ dynamodb: client, faults: { file: '/dev/null' } });
      const event = kinesisEvent(['a', 'b', 'a'].map((id) => kinesisRecord({ streamName: 'clicks', json: { id } })));
      const context = createLocalContext({ functionName: 'clicks', region: 'us-east-1', timeoutMs: 60_000 });
      await handler(event, context);
      await handler(event, context);
      expect(await dumpTable(client, 'CheckpointClicks')).toEqual([{ id: 'a', n: 2 }, { id: 'b', n: 1 }]);
      expect((await dumpTable(client, 'CheckpointMarkers')).map((item) => item.pk)).toEqual([`clicks-checkpoint-dynamodb|${event.Records[0].eventSourceARN}|shardId-000000000000|checkpoint`]);
    } finally {
      client.destroy();
    }
  });
});
