import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, DynamoDBStreamEvent, KinesisStreamEvent } from 'aws-lambda';
import { ErrorCode } from '../../src/runtime/errors';
import { createHandler, type DynamoDBBatchHandler, type KinesisBatchHandler } from '../../src/runtime/handler';
import { DEFAULT_SERVICE_NAME } from '../../src/runtime/logging';
import { MetricName, METRICS_NAMESPACE } from '../../src/runtime/metrics';
import { definePipeline, type Pipeline } from '../../src/runtime/pipeline';
import { asPowertoolsRecordHandler } from '../../src/runtime/powertools';
import { dynamodbEvent, dynamodbRecord, kinesisEvent, kinesisRecord, kplAggregateRecord } from '../helpers/factories';
import { captureOutput, type CapturedOutput } from '../helpers/output';
import { Behaviour, MemoryFaultSink, MemorySink, ScriptedProcessor, SinkBehaviour, payloadId } from './pipeline-helpers';

const lambdaContext = (remainingMs = 60_000): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'scores-handler',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:scores-handler',
  memoryLimitInMB: '512',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/scores-handler',
  logStreamName: '2026/01/01/[$LATEST]abc',
  getRemainingTimeInMillis: () => remainingMs,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('createHandler', () => {
  let stdout: CapturedOutput;
  beforeEach(() => {
    jest.useFakeTimers({ now: NOW, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    stdout = captureOutput();
  });
  afterEach(() => {
    stdout.restore();
    jest.useRealTimers();
  });

  function scoresPipeline(logger: Logger, behaviour: (id: string) => Behaviour = () => Behaviour.Ok): Pipeline {
    return definePipeline({
      processors: [new ScriptedProcessor('scores', {}, behaviour)],
      sinks: [new MemorySink()],
      faultSink: new MemoryFaultSink(),
      options: { logger },
    });
  }

  it('returns the partial batch response and is a typed Kinesis and DynamoDB handler', async () => {
    const logger = new Logger({ serviceName: 'scores' });
    const handler = createHandler(
      scoresPipeline(logger, (id) => (id === 'b' ? Behaviour.Retryable : Behaviour.Ok)),
      { serviceName: 'scores', logger },
    );
    const kinesisHandler: KinesisBatchHandler = handler;
    const dynamodbHandler: DynamoDBBatchHandler = handler;
    const records = [kinesisRecord({ json: { id: 'a' } }), kinesisRecord({ json: { id: 'b' } })];
    const event: KinesisStreamEvent = kinesisEvent(records);

    const response = await kinesisHandler(event, lambdaContext(), () => undefined);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.kinesis.sequenceNumber }] });
    expect(typeof dynamodbHandler).toBe('function');
  });

  it('publishes one EMF document per invocation with the batch counts, duration and iterator age', async () => {
    const logger = new Logger({ serviceName: 'scores' });
    const handler = createHandler(
      scoresPipeline(logger, (id) => ({ a: Behaviour.Ok, b: Behaviour.Permanent, c: Behaviour.Retryable })[id] ?? Behaviour.Ok),
      { serviceName: 'scores', logger },
    );
    const arrivalSeconds = NOW / 1000 - 90; // the last record arrived 90 s before the batch finished
    const records = [
      kinesisRecord({ json: { id: 'a' }, partitionKey: 'A' }),
      kinesisRecord({ json: { id: 'b' }, partitionKey: 'B' }),
      kinesisRecord({ json: { id: 'c' }, partitionKey: 'C' }),
      kinesisRecord({ json: { id: 'd' }, partitionKey: 'C', arrivalSeconds }),
    ];

    await handler(kinesisEvent(records), lambdaContext());

    const emf = stdout.lines().filter((line) => '_aws' in line);
    expect(emf).toHaveLength(1);
    const [document] = emf as [Record<string, unknown> & { _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } }];
    const directive = document._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive.Dimensions).toEqual([['service']]);
    expect(document.service).toBe('scores');
    expect(directive.Metrics).toEqual(
      expect.arrayContaining([
        { Name: MetricName.RecordsIn, Unit: 'Count' },
        { Name: MetricName.BatchDuration, Unit: 'Milliseconds' },
        { Name: MetricName.IteratorAge, Unit: 'Milliseconds' },
      ]),
    );
    expect(document).toMatchObject({
      [MetricName.RecordsIn]: 4,
      [MetricName.RecordsProcessed]: 1,
      [MetricName.RecordsFaulted]: 1,
      [MetricName.RecordsFailed]: 1,
      [MetricName.RecordsSkipped]: 1,
      [MetricName.RecordsUnrouted]: 0,
      [MetricName.BatchItemFailures]: 2,
      [MetricName.IteratorAge]: 90_000,
    });
  });

  it('logs a structured summary line with the Lambda context when asked, and record failures through the same logger', async () => {
    const logger = new Logger({ serviceName: 'scores' });
    const handler = createHandler(scoresPipeline(logger, (id) => (id === 'x' ? Behaviour.Retryable : Behaviour.Ok)), {
      serviceName: 'scores',
      logger,
      logBatchSummary: true,
    });
    const bad = kinesisRecord({ json: { id: 'x' } });
    await handler(kinesisEvent([bad]), lambdaContext());

    const logs = stdout.lines().filter((line) => !('_aws' in line));
    const failure = logs.find((line) => line.message === 'Record reported for retry');
    const summary = logs.find((line) => line.message === 'Batch processed');
    expect(failure).toMatchObject({
      level: 'WARN',
      service: 'scores',
      function_name: 'scores-handler',
      function_request_id: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
      recordId: bad.eventID,
      stage: 'scores',
      sequenceNumber: bad.kinesis.sequenceNumber,
      error: { code: ErrorCode.SinkTransient, retryable: true },
    });
    expect(summary).toMatchObject({ level: 'INFO', stats: { recordsIn: 1, failed: 1 } });
  });

  it('lets an error of the pipeline itself propagate, after logging it and publishing BatchErrors', async () => {
    const logger = new Logger({ serviceName: 'scores' });
    const handler = createHandler(scoresPipeline(logger), { serviceName: 'scores', logger });
    await expect(handler({ records: [] } as unknown as DynamoDBStreamEvent, lambdaContext())).rejects.toMatchObject({
      code: ErrorCode.MissingField,
    });
    const lines = stdout.lines();
    expect(lines.find((line) => '_aws' in line)).toMatchObject({ [MetricName.BatchErrors]: 1, [MetricName.RecordsIn]: 0 });
    expect(lines.find((line) => line.level === 'ERROR')).toMatchObject({ message: 'Batch failed as a whole; Lambda will retry all of it' });
  });

  it('handles DynamoDB events and accepts injected metrics', async () => {
    const logger = new Logger({ serviceName: 'orders' });
    const metrics = new Metrics({ namespace: 'custom', serviceName: 'orders' });
    const pipeline = definePipeline({
      processors: [
        new ScriptedProcessor('keys', {}, () => Behaviour.Ok, (record) => (record.source === 'aws:dynamodb' ? String(record.keys.Id) : '')),
      ],
      sinks: [new MemorySink()],
      options: { logger },
    });
    const handler = createHandler(pipeline, { logger, metrics, logBatchSummary: false });
    const event = dynamodbEvent([dynamodbRecord({ eventName: 'INSERT', viewType: 'KEYS_ONLY', keys: { Id: 101, Amount: 5 } })]);
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    const lines = stdout.lines();
    expect(lines.filter((line) => line.message === 'Batch processed')).toEqual([]);
    expect(lines.find((line) => '_aws' in line)).toMatchObject({ service: 'orders', [MetricName.RecordsProcessed]: 1 });
  });

  it('gives its metrics the service its logs carry when no service name is given', async () => {
    const saved = process.env.POWERTOOLS_SERVICE_NAME;
    const services: unknown[] = [];
    try {
      for (const env of [undefined, 'from-env']) {
        if (env === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
        else process.env.POWERTOOLS_SERVICE_NAME = env;
        const logger = new Logger();
        await createHandler(scoresPipeline(logger), { logger })(kinesisEvent([kinesisRecord({ json: { id: 'a' } })]), lambdaContext());
        services.push(stdout.lines().filter((line) => '_aws' in line).at(-1)?.service);
      }
    } finally {
      if (saved === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
      else process.env.POWERTOOLS_SERVICE_NAME = saved;
    }
    expect(services).toEqual([DEFAULT_SERVICE_NAME, 'from-env']);
  });

  it('keeps the default of an option given as undefined: no summary line, the EMF line carries the counts', async () => {
    const logger = new Logger({ serviceName: 'scores' });
    const handler = createHandler(scoresPipeline(logger), { logger, logBatchSummary: undefined });
    await handler(kinesisEvent([kinesisRecord({ json: { id: 'a' } })]), lambdaContext());
    expect(stdout.lines().filter((line) => line.message === 'Batch processed')).toHaveLength(0);
    expect(stdout.lines().filter((line) => '_aws' in line)).toMatchObject([{ [MetricName.RecordsIn]: 1, [MetricName.RecordsProcessed]: 1 }]);
  });

  it('rejects unknown options and things that are not pipelines', () => {
    const pipeline = scoresPipeline(new Logger());
    expect(() => createHandler(pipeline, { service: 'x' } as never)).toThrow(
      /createHandler: unknown option "service" \(known: serviceName, logger, metrics, logBatchSummary\)/,
    );
    expect(() => createHandler({} as never)).toThrow(/needs a pipeline made by definePipeline/);
  });
});

describe('asPowertoolsRecordHandler', () => {
  it("runs a shardflow processor and sink inside Powertools' BatchProcessor", async () => {
    const processor = new ScriptedProcessor('scores', {}, (id) => (id === 'bad' ? Behaviour.Permanent : Behaviour.Ok));
    const sink = new MemorySink('totals', (record) => (payloadId(record) === 'throttled' ? SinkBehaviour.Retryable : SinkBehaviour.Ok));
    const recordHandler = asPowertoolsRecordHandler(processor, { sinks: [sink] });
    const records = [
      kinesisRecord({ json: { id: 'a' } }),
      kinesisRecord({ json: { id: 'bad' } }),
      kinesisRecord({ base64: '***', partitionKey: 'x' }),
      kinesisRecord({ json: { id: 'throttled' } }),
      kplAggregateRecord([
        { partitionKey: 'k1', data: JSON.stringify({ id: 'u1' }) },
        { partitionKey: 'k2', data: JSON.stringify({ id: 'u2' }) },
      ]),
    ];

    const response = await processPartialResponse(kinesisEvent(records), recordHandler, new BatchProcessor(EventType.KinesisDataStreams), {
      processInParallel: false,
    });

    expect(response.batchItemFailures).toEqual([1, 2, 3].map((i) => ({ itemIdentifier: records[i]!.kinesis.sequenceNumber })));
    expect([...sink.totals.keys()]).toEqual(['a', 'u1', 'u2']);
  });

  it('returns the effects and skips records the selector does not want', async () => {
    const processor = new ScriptedProcessor('orders-only', { streams: ['Orders'] });
    const handler = asPowertoolsRecordHandler(processor);
    expect(await handler(kinesisRecord({ json: { id: 'a' } }))).toEqual([]);
    const effects = await handler(kinesisRecord({ json: { id: 'b' }, streamName: 'Orders' }));
    expect(effects).toEqual([expect.objectContaining({ type: 'add', key: { id: 'b' } })]);
  });
});
