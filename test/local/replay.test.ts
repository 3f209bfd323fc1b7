/**
 * Replay of the sample recordings in examples/ through the apps' real handlers against DynamoDB Local, and the
 * `shardflow replay --json` command line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { kinesisLogApp, ordersApp, scoresApp, tagsApp } from '../../src/seed';
import { localClientConfig } from '../../src/local/clients';
import { batchInfo, type OnFailureRecord } from '../../src/local/event-source';
import { countDeliveries } from '../../src/local/recording';
import { replay, type ReplaySummary } from '../../src/local/replay';
import { ErrorCode } from '../../src/runtime/errors';
import { jsonText } from '../../src/runtime/json-text';
import { badInput } from '../helpers/bad-input';
import { useDynamoDBLocal } from '../../src/testing';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const example = (name: string) => join(EXAMPLES, name);

describe('replay of the sample recordings', () => {
  const ddb = useDynamoDBLocal();
  let dynamodb: DynamoDBClient;
  let scratch: string;

  beforeAll(async () => {
    dynamodb = new DynamoDBClient(localClientConfig(ddb.endpoint()));
    scratch = await mkdtemp(join(tmpdir(), 'shardflow-replay-test-'));
  });
  afterAll(async () => {
    dynamodb.destroy();
    await rm(scratch, { recursive: true, force: true });
  });
  // Every replay starts from empty tables: the dedupe markers of one would hide the records of the next.
  beforeEach(async () => {
    const { TableNames = [] } = await dynamodb.send(new ListTablesCommand({}));
    await Promise.all(TableNames.map((TableName) => dynamodb.send(new DeleteTableCommand({ TableName }))));
  });

  it('scores: sums each user exactly once through duplicates and a mid-batch retry, and captures the poison records', async () => {
    const summary = await replay({ app: scoresApp, recordings: [example('scores.jsonl')], dynamodb });
    expect(summary).toMatchObject({ app: 'scores', deliveries: 5, records: 18, invocations: 5, batchItemFailures: 0, functionErrors: 0, dlq: [] });
    expect(summary.tables).toEqual({
      GameScoresByUser: [
        { Username: 'Ana Silva', Score: 3 },
        { Username: 'Jane Doe', Score: 110 },
        { Username: 'John Roe', Score: 125 },
        { Username: 'Wei Chen', Score: 12 },
      ],
    });
    // The duplicated delivery captures the poison record again; it is listed once.
    expect(summary.faults.map((fault) => [fault.stage, fault.error.code, fault.error.retryable])).toEqual([
      ['score-aggregator', 'VALIDATION', false],
      ['score-aggregator', 'INVALID_JSON', false],
    ]);
    const [badScore, notJson] = summary.faults;
    expect(badScore.error.message).toMatch(/Score is the string "abc"/);
    expect(badScore.raw).toMatchObject({ eventName: 'INSERT', dynamodb: { NewImage: { Score: { S: 'abc' } } } });
    expect(notJson.recordId).toMatch(/^shardId-000000000000:\d+$/);
    expect(Buffer.from((notJson.raw as { kinesis: { data: string } }).kinesis.data, 'base64').toString()).toBe('Wei Chen scored 5');
  });

  it('tags: keeps TotalViews at the sum of Count, ignoring the COUNTER item and the duplicate', async () => {
    const summary = await replay({ app: tagsApp, recordings: [example('tags.jsonl')], dynamodb });
    expect(summary).toMatchObject({ deliveries: 4, records: 10, invocations: 4, batchItemFailures: 0, faults: [], dlq: [] });
    expect(summary.tables).toEqual({ PageViews: [{ ID: 'COUNTER', TotalViews: 4 }] });
  });

  it('orders and kinesis-log: log every record; undecodable data becomes a fault', async () => {
    const orders = await replay({ app: ordersApp, recordings: [example('orders.jsonl')], dynamodb });
    expect(orders).toMatchObject({ deliveries: 5, records: 5, invocations: 5, batchItemFailures: 0, faults: [], dlq: [], tables: {} });
    const log = await replay({ app: kinesisLogApp, recordings: [example('kinesis-log.jsonl')], dynamodb });
    expect(log).toMatchObject({ deliveries: 3, records: 11, invocations: 3, batchItemFailures: 0, dlq: [], tables: {} });
    expect(log.faults.map((fault) => [fault.stage, fault.error.code])).toEqual([['normalize', 'INVALID_BASE64']]);
  });

  it('retries records the app reports failed and writes on-failure records when the retries run out', async () => {
    // Faults cannot be kept (their file's directory is missing), so the app reports the poison records for retry.
    const dlqFile = join(scratch, 'dlq.jsonl');
    const summary = await replay({
      app: scoresApp,
      recordings: [example('scores.jsonl')],
      dynamodb,
      invocation: { maxRetries: 1 },
      faultsFile: join(scratch, 'missing-directory', 'faults.jsonl'),
      dlqFile,
    });
    expect(summary.faults).toEqual([]);
    // Two changes deliveries (the poison record, retried once each) and the Kinesis batch (the non-JSON record
    // and the aggregate after it with the same partition key, retried once).
    expect(summary).toMatchObject({ deliveries: 5, invocations: 8, batchItemFailures: 8 });
    expect(summary.dlq.map((record) => [Object.keys(record).filter((key) => key.endsWith('BatchInfo'))[0], batchInfo(record).batchSize])).toEqual([
      ['DDBStreamBatchInfo', 1],
      ['DDBStreamBatchInfo', 1],
      ['KinesisBatchInfo', 2],
    ]);
    expect(batchInfo(summary.dlq[0])).toMatchObject({ shardId: 'shardId-00000001767225600000-5f2b3c4d', streamArn: expect.stringContaining('table/GameScoreRecords/stream/') });
    expect(summary.dlq[0].requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 });
    const written = (await readFile(dlqFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as OnFailureRecord);
    expect(written).toEqual(summary.dlq);
    // Everything else was applied exactly once. The aggregate given up with the poison record may have been
    // applied before the poison record failed (the runtime decides); re-deliveries never apply it twice.
    const scores = Object.fromEntries((summary.tables.GameScoresByUser ?? []).map((item) => [item.Username, item.Score]));
    expect(scores).toMatchObject({ 'Jane Doe': 110, 'John Roe': 125 });
    expect([[0, 5], [3, 12]]).toContainEqual([scores['Ana Silva'] ?? 0, scores['Wei Chen']]);
  });

  it('replays a record nested 100,000 levels deep into a fault, without overflowing the emulator', async () => {
    const deep = badInput['an image nested 100,000 levels deep'].raw();
    const file = join(scratch, 'deep.jsonl');
    // JSON.stringify would overflow on this record: the recording is written the way the runtime writes faults.
    await writeFile(file, `${jsonText({ Records: [deep] })}\n`);
    const summary = await replay({ app: scoresApp, recordings: [file], dynamodb });
    expect(summary).toMatchObject({ invocations: 1, functionErrors: 0, dlq: [] });
    expect(summary.faults.map((fault) => fault.error.code)).toEqual([ErrorCode.InvalidAttributeValue]);
  });

  it('accepts a .json file holding one event', async () => {
    const line = (await readFile(example('tags.jsonl'), 'utf8')).split('\n')[0];
    const file = join(scratch, 'one-event.json');
    await writeFile(file, JSON.stringify(JSON.parse(line), null, 2));
    const summary = await replay({ app: tagsApp, recordings: [file], dynamodb });
    expect(summary).toMatchObject({ deliveries: 1, records: 3, tables: { PageViews: [{ ID: 'COUNTER', TotalViews: 3 }] } });
  });

  it('rejects a recording line that is not an event, naming the file and line', async () => {
    const file = join(scratch, 'broken.jsonl');
    await writeFile(file, `${(await readFile(example('orders.jsonl'), 'utf8')).split('\n')[0]}\n{"records": []}\n`);
    await expect(replay({ app: ordersApp, recordings: [file], dynamodb })).rejects.toThrow(`${file}:2 is not a Lambda stream event`);
  });

  it('refuses a function timeout that leaves no time beyond the deadline margin, before replaying anything', async () => {
    const run = replay({ app: scoresApp, recordings: [example('scores.jsonl')], dynamodb, invocation: { timeoutMs: 1000 } });
    await expect(run).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
    await expect(run).rejects.toThrow(
      "replay: the function timeout of 1000 ms is not above app scores's deadline margin of 1000 ms, so no record would start",
    );
    const { TableNames = [] } = await dynamodb.send(new ListTablesCommand({}));
    expect(TableNames).toEqual([]);
  });

  it('names a recording that is a directory, or missing', async () => {
    await expect(replay({ app: ordersApp, recordings: [scratch], dynamodb })).rejects.toThrow(
      `Recording ${scratch} is not a file (a directory?): give a JSONL file or a .json file.`,
    );
    const missing = join(scratch, 'missing.jsonl');
    await expect(countDeliveries([scratch])).rejects.toThrow(`Recording ${scratch} is not a file`);
    await expect(replay({ app: ordersApp, recordings: [missing], dynamodb })).rejects.toThrow(`ENOENT: no such file or directory, stat '${missing}'`);
  });

  it('shardflow replay --json prints exactly one JSON document on stdout', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        require.resolve('ts-node/dist/bin.js'),
        '--transpile-only',
        join(__dirname, '..', '..', 'src', 'cli', 'main.ts'),
        'replay',
        example('scores.jsonl'),
        '--app',
        'scores',
        '--json',
        '--endpoint',
        ddb.endpoint(),
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const summary = JSON.parse(stdout) as ReplaySummary;
    expect(summary).toMatchObject({ records: 18, invocations: 5, batchItemFailures: 0, dlq: [] });
    expect(summary.faults).toHaveLength(2);
    expect(summary.tables.GameScoresByUser).toHaveLength(4);
    // The handlers' log lines went to stderr.
    expect(stderr).toContain('"service":"scores"');
  });
});
