/**
 * One hostile batch through a real pipeline, in a process of its own (see memory.test.ts): the record logger and
 * the score aggregator, the exactly-once DynamoDB sink, a log sink and the DynamoDB fault sink on DynamoDB Local.
 * Run as `node --max-old-space-size=384 memory-child.js <scenario> <result file>` with SHARDFLOW_TEST_ENDPOINT set;
 * writes what happened as JSON to the result file (stdout takes the log lines).
 */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { KinesisStreamRecord } from 'aws-lambda';
import { localClientConfig } from '../../src/local/clients';
import { createRecordLogger, createScoreAggregator } from '../../src/processors';
import { definePipeline } from '../../src/runtime/pipeline';
import type { Effect, Processor, Sink } from '../../src/runtime/types';
import { DynamoDBSink, markerTableDefinition } from '../../src/sinks/dynamodb';
import { DynamoDBFaultSink, faultTableDefinition } from '../../src/sinks/dynamodb-faults';
import { LogSink } from '../../src/sinks/log';
import { kinesisRecord, kplAggregateRecord } from '../helpers/factories';
import { Scenario, type ChildResult } from './memory-scenarios';

const STREAM = 'ScoreEvents';
const MB = 1024 * 1024;
const BOMB_BYTES = 60 * MB;

/**
 * Gzip members inflate one after the other, so a bomb is built member by member, without ever holding what it
 * inflates to (which would make the child's own memory the peak).
 */
function bomb(head: string, fill: number, tail: string): Buffer {
  const mebibyte = gzipSync(Buffer.alloc(MB, fill));
  return Buffer.concat([gzipSync(head), ...Array.from({ length: BOMB_BYTES / MB }, () => mebibyte), gzipSync(tail)]);
}

const bombs = {
  zeros: bomb('', 0, ''),
  json: bomb('{"Username":"bomb","Score":1,"pad":"', 0x61, '"}'),
};
const good = (i: number) => Buffer.from(JSON.stringify({ Username: `user-${i % 7}`, Score: i }));

function batch(scenario: Scenario): KinesisStreamRecord[] {
  const records: KinesisStreamRecord[] = [];
  if (scenario === Scenario.GzipBatch) {
    for (let i = 0; i < 72; i++) {
      const data = i % 8 === 7 ? good(i) : i % 2 === 0 ? bombs.zeros : bombs.json;
      records.push(kinesisRecord({ streamName: STREAM, partitionKey: `pk-${i % 5}`, data }));
    }
  } else if (scenario === Scenario.KplGzip) {
    for (let a = 0; a < 4; a++) {
      const users = Array.from({ length: 16 }, (_, i) => ({
        partitionKey: `pk-${i % 5}`,
        data: i % 8 === 7 ? good(i) : i % 2 === 0 ? bombs.zeros : bombs.json,
      }));
      records.push(kplAggregateRecord(users, { streamName: STREAM }));
    }
  } else if (scenario === Scenario.JsonExpansion) {
    const arrays = gzipSync(`{"Username":"u","Score":1,"a":[${'[],'.repeat(21_830)}[]]}`);
    for (let i = 0; i < 8_700; i++) records.push(kinesisRecord({ streamName: STREAM, partitionKey: `pk-${i % 5}`, data: arrays }));
  } else {
    // 1,000 user records of 1.2 KB each: about 1.2 MB per aggregate, every one invalid (no Username).
    for (let a = 0; a < 3; a++) {
      const users = Array.from({ length: 1000 }, (_, i) => ({
        partitionKey: `pk-${a}-${i}`,
        data: JSON.stringify({ Score: i, pad: 'p'.repeat(1170) }),
      }));
      records.push(kplAggregateRecord(users, { streamName: STREAM }));
    }
  }
  return records;
}

async function main(): Promise<void> {
  const [scenario, resultFile] = process.argv.slice(2) as [Scenario, string];
  const endpoint = process.env.SHARDFLOW_TEST_ENDPOINT;
  if (endpoint === undefined) throw new Error('SHARDFLOW_TEST_ENDPOINT is not set.');
  const client = new DynamoDBClient(localClientConfig(endpoint));
  const suffix = `${scenario.replace(/-/g, '')}${process.pid}`;
  const tables = { totals: `Totals${suffix}`, markers: `Markers${suffix}`, faults: `Faults${suffix}` };
  await client.send(new CreateTableCommand(markerTableDefinition(tables.markers)));
  await client.send(new CreateTableCommand(faultTableDefinition(tables.faults)));
  await client.send(
    new CreateTableCommand({
      TableName: tables.totals,
      KeySchema: [{ AttributeName: 'Username', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'Username', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );

  // What the fault sink sends: requests and their bodies.
  const faultClient = new DynamoDBClient(localClientConfig(endpoint));
  let faultRequests = 0;
  let faultRequestBytes = 0;
  faultClient.middlewareStack.add(
    (next) => async (args) => {
      const body = (args.request as { body?: unknown }).body;
      faultRequests += 1;
      faultRequestBytes += typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.byteLength : 0;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countFaultRequests' },
  );

  let peakRssBytes = 0;
  let peakHeapBytes = 0;
  const sample = (): void => {
    const usage = process.memoryUsage();
    peakRssBytes = Math.max(peakRssBytes, usage.rss);
    peakHeapBytes = Math.max(peakHeapBytes, usage.heapUsed);
  };
  // Runs after the others on every record: memory is at its highest while a record's payload is inflated.
  const sampler: Processor<Effect> = {
    name: 'memory-sampler',
    select: {},
    process: () => {
      sample();
      return [];
    },
  };
  const logger = new Logger({ serviceName: 'memory' });
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const pipeline = definePipeline<Effect>({
    processors: [
      createRecordLogger({ select: { streams: [STREAM] } }),
      createScoreAggregator({ kinesisStreams: [STREAM], targetTable: tables.totals, userAttribute: 'Username', scoreAttribute: 'Score' }),
      sampler,
    ],
    sinks: [new DynamoDBSink({ client, markerTable: tables.markers, tables: [tables.totals] }) as Sink<Effect>, new LogSink({ logger }) as Sink<Effect>],
    faultSink: new DynamoDBFaultSink({ client: faultClient, table: tables.faults }),
    options: { logger: quiet },
  });

  const records = batch(scenario);
  const event = JSON.parse(JSON.stringify({ Records: records })) as { Records: KinesisStreamRecord[] };
  records.length = 0;
  const wireBytes = Buffer.byteLength(JSON.stringify(event));
  sample();
  const outcome = await pipeline.run(event);
  sample();
  const faultCodes: Record<string, number> = {};
  for (const fault of outcome.faults) faultCodes[fault.error.code] = (faultCodes[fault.error.code] ?? 0) + 1;
  const result: ChildResult = {
    wireBytes,
    records: outcome.stats.records,
    processed: outcome.stats.processed,
    faulted: outcome.stats.faulted,
    batchItemFailures: outcome.stats.batchItemFailures,
    faultCodes,
    faultRequests,
    faultRequestBytes,
    peakRssBytes,
    peakHeapBytes,
  };
  writeFileSync(resultFile, JSON.stringify(result));
  client.destroy();
  faultClient.destroy();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
