/**
 * Processors that declare what they read (`defineProcessor` with Standard Schemas): validation in the batch loop with
 * zod and valibot, sync and async, failures as faults with every issue's path, one validation per record and schema,
 * and the checks made when a processor is defined.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import * as v from 'valibot';
import { z } from 'zod';
import { defineProcessor } from '../../src/runtime/define-processor';
import { ErrorCode, SchemaValidationError } from '../../src/runtime/errors';
import type { StreamRecord } from '../../src/runtime/model';
import { definePipeline } from '../../src/runtime/pipeline';
import { asPowertoolsRecordHandler } from '../../src/runtime/powertools';
import { runProcessor } from '../../src/runtime/run-processor';
import type { StandardSchemaV1 } from '../../src/runtime/standard-schema';
import type { AnyProcessor, Effect, SchemaProcessor } from '../../src/runtime/types';
import { dynamodbEvent, dynamodbRecord, kinesisEvent, kinesisRecord, kplAggregateRecord, rawDynamodbRecord } from '../helpers/factories';
import { normalizeAll } from '../helpers/normalize';
import { MemoryFaultSink, MemorySink, addEffect } from './pipeline-helpers';

const Order = z.object({ customer: z.string(), total: z.number(), items: z.array(z.object({ sku: z.string() })).optional() });

/** A processor of orders into `Totals` by customer; `seen` lists the values it got, in order. */
function ordersProcessor(name: string, schema: StandardSchemaV1<unknown, z.output<typeof Order>> = Order) {
  const seen: z.output<typeof Order>[] = [];
  const processor = defineProcessor({
    name,
    select: {},
    schema: { payload: schema },
    process(record, { payload: order }) {
      seen.push(order);
      return [addEffect(record, order.customer, order.total)];
    },
  });
  return { processor, seen };
}

function pipelineOf(processors: readonly AnyProcessor<Effect>[]) {
  const sink = new MemorySink();
  const faults = new MemoryFaultSink();
  return { sink, faults, pipeline: definePipeline({ processors, sinks: [sink], faultSink: faults }) };
}

/** Counts calls of a schema's `validate`, which still validates. */
function countValidations(schema: StandardSchemaV1): jest.SpyInstance {
  return jest.spyOn(schema['~standard'], 'validate');
}

afterEach(() => jest.restoreAllMocks());

describe('a processor with a zod schema on the Kinesis payload', () => {
  it('gets every payload validated and typed, and a record that does not match becomes a fault naming each issue', async () => {
    const { processor, seen } = ordersProcessor('orders');
    const { pipeline, sink, faults } = pipelineOf([processor]);
    const bad = kinesisRecord({ partitionKey: 'ana', json: { customer: 3, total: 'x', items: [{ sku: 'a' }, { sku: 1 }] } });
    const event = kinesisEvent([
      kinesisRecord({ partitionKey: 'ana', json: { customer: 'ana', total: 2, extra: true } }),
      bad,
      kinesisRecord({ partitionKey: 'ana', json: { customer: 'ana', total: 3 } }),
    ]);

    const outcome = await pipeline.run(event);

    // A validation failure is permanent: the record is kept, and later records of its key go on.
    expect(outcome.response.batchItemFailures).toEqual([]);
    expect(sink.totals).toEqual(new Map([['ana', 5]]));
    expect(seen).toEqual([{ customer: 'ana', total: 2 }, { customer: 'ana', total: 3 }]);
    expect(faults.faults).toHaveLength(1);
    const [fault] = faults.faults;
    expect(fault).toMatchObject({ recordId: bad.eventID, stage: 'orders', raw: bad, error: { code: ErrorCode.Validation, retryable: false } });
    expect(fault!.error.message).toBe(
      `Record ${bad.eventID} from Kinesis stream Lab-Stream does not match the schema of processor "orders": ` +
        'payload.customer: Invalid input: expected string, received number; ' +
        'payload.total: Invalid input: expected number, received string; ' +
        'payload.items[1].sku: Invalid input: expected string, received number.',
    );
  });

  it('reads gzip payloads and KPL user records, and keeps a failing user record as a fault of its own', async () => {
    const { processor, seen } = ordersProcessor('orders');
    const { pipeline, faults } = pipelineOf([processor]);
    const aggregate = kplAggregateRecord([
      { partitionKey: 'k1', data: JSON.stringify({ customer: 'bo', total: 1 }) },
      { partitionKey: 'k2', data: JSON.stringify({ customer: 'cy' }) },
    ]);
    await pipeline.run(kinesisEvent([kinesisRecord({ json: { customer: 'ana', total: 4 }, gzip: true }), aggregate]));

    expect(seen).toEqual([{ customer: 'ana', total: 4 }, { customer: 'bo', total: 1 }]);
    expect(faults.faults.map((fault) => [fault.recordId, fault.error.message])).toEqual([
      [`${aggregate.eventID}#1`, expect.stringContaining('payload.total: Invalid input: expected number, received undefined')],
    ]);
    // The fault's record decodes back to that user record alone.
    const [kept] = normalizeAll(faults.faults[0]!.raw);
    expect(kept?.source === 'aws:kinesis' && kept.payload.json()).toEqual({ customer: 'cy' });
  });

  it('fails a payload that is not JSON, or holds a number a double cannot hold, with its decoding error', async () => {
    const { processor } = ordersProcessor('orders');
    const validate = countValidations(Order);
    const { pipeline, faults } = pipelineOf([processor]);
    await pipeline.run(kinesisEvent([kinesisRecord({ data: 'customer=ana' }), kinesisRecord({ data: '{"customer":"ana","total":9007199254740993}' })]));

    expect(faults.faults.map((fault) => [fault.stage, fault.error.code])).toEqual([
      ['orders', ErrorCode.InvalidJson],
      ['orders', ErrorCode.InvalidNumber],
    ]);
    expect(validate).not.toHaveBeenCalled();
  });
});

describe('a processor with valibot schemas on DynamoDB images and keys', () => {
  // Exact numbers: the schema sees what the event model gives everyone.
  const Score = v.object({ Username: v.string(), Score: v.union([v.number(), v.bigint()]), Ratio: v.optional(v.instance(NumberValue)) });
  const Key = v.object({ RecordID: v.number() });

  function scoresProcessor(kinds?: readonly ('insert' | 'modify' | 'remove')[]) {
    const seen: unknown[] = [];
    const processor = defineProcessor({
      name: 'scores',
      select: kinds === undefined ? {} : { kinds },
      schema: { newImage: Score, oldImage: Score, keys: Key },
      process(record, value) {
        seen.push({ kind: record.kind, ...value });
        return [];
      },
    });
    return { processor, seen };
  }

  it('validates the images a change has and the keys, with the exact numbers of the event model', async () => {
    const { processor, seen } = scoresProcessor();
    const { pipeline, faults } = pipelineOf([processor]);
    const jane = (score: unknown) => ({ RecordID: 1, Username: 'Jane', Score: score, Ratio: new NumberValue('0.33333333333333333333') });
    await pipeline.run(
      dynamodbEvent([
        dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 1 }, newImage: jane(2n ** 60n) }),
        dynamodbRecord({ eventName: 'MODIFY', keys: { RecordID: 1 }, oldImage: jane(2n ** 60n), newImage: jane(5) }),
        dynamodbRecord({ eventName: 'REMOVE', keys: { RecordID: 1 }, oldImage: jane(5) }),
      ]),
    );

    expect(faults.faults).toEqual([]);
    const ratio = new NumberValue('0.33333333333333333333');
    expect(seen).toEqual([
      { kind: 'insert', keys: { RecordID: 1 }, newImage: { Username: 'Jane', Score: 2n ** 60n, Ratio: ratio }, oldImage: undefined },
      { kind: 'modify', keys: { RecordID: 1 }, newImage: { Username: 'Jane', Score: 5, Ratio: ratio }, oldImage: { Username: 'Jane', Score: 2n ** 60n, Ratio: ratio } },
      { kind: 'remove', keys: { RecordID: 1 }, newImage: undefined, oldImage: { Username: 'Jane', Score: 5, Ratio: ratio } },
    ]);
  });

  it('faults a change whose images or keys do not match, with each issue under its part', async () => {
    const { processor } = scoresProcessor();
    const { pipeline, faults } = pipelineOf([processor]);
    const record = rawDynamodbRecord({
      eventName: 'MODIFY',
      keys: { RecordID: { S: 'one' } },
      oldImage: { RecordID: { S: 'one' }, Username: { S: 'Jane' }, Score: { N: '1' } },
      newImage: { RecordID: { S: 'one' }, Username: { N: '7' }, Score: { S: 'lots' } },
    });
    await pipeline.run(dynamodbEvent([record]));

    expect(faults.faults).toHaveLength(1);
    const { error } = faults.faults[0]!;
    expect(error.code).toBe(ErrorCode.Validation);
    expect(error.message).toContain(`Record ${record.eventID} from table GameScoreRecords does not match the schema of processor "scores": `);
    expect(error.message).toContain('newImage.Username: Invalid type: Expected string but received 7');
    expect(error.message).toContain('newImage.Score: Invalid type: Expected (number | bigint) but received "lots"');
    expect(error.message).toContain('keys.RecordID: Invalid type: Expected number but received "one"');
  });

  it('fails a record whose stream does not carry an image the schema reads, naming the view type', async () => {
    const { processor } = scoresProcessor();
    const { pipeline, faults } = pipelineOf([processor]);
    await pipeline.run(dynamodbEvent([dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 1 }, viewType: 'KEYS_ONLY' })]));

    expect(faults.faults.map((fault) => fault.error)).toEqual([expect.objectContaining({ code: ErrorCode.ImageNotInView, message: expect.stringContaining('KEYS_ONLY') })]);
  });

  it('does not validate an image the change does not have', () => {
    const { processor } = scoresProcessor(['insert']);
    const validate = countValidations(Score);
    const [insert] = normalizeAll(dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 1 }, newImage: { RecordID: 1, Username: 'Jane', Score: 1 } }));
    runProcessor(processor, insert!);
    expect(validate.mock.calls).toEqual([[{ RecordID: 1, Username: 'Jane', Score: 1 }]]);
  });
});

describe('async schemas', () => {
  const knownCustomers = new Set(['ana', 'bo']);
  const isKnown = (customer: string) => Promise.resolve(knownCustomers.has(customer));
  const ZodKnownOrder = Order.refine((order) => isKnown(order.customer), { message: 'Unknown customer', path: ['customer'] });
  const ValibotKnownOrder = v.pipeAsync(
    v.object({ customer: v.string(), total: v.number() }),
    v.checkAsync((order) => isKnown(order.customer), 'Unknown customer'),
  );

  it.each([
    ['zod', ZodKnownOrder, 'payload.customer: Unknown customer'],
    ['valibot', ValibotKnownOrder, 'payload: Unknown customer'],
  ] as const)('%s: records wait for their schema; a record it rejects becomes a fault', async (_library, schema, issue) => {
    const { processor, seen } = ordersProcessor('orders', schema);
    const { pipeline, sink, faults } = pipelineOf([processor]);
    const event = kinesisEvent([
      kinesisRecord({ json: { customer: 'ana', total: 1 } }),
      kinesisRecord({ json: { customer: 'eve', total: 2 } }),
      kinesisRecord({ json: { customer: 'bo', total: 3 } }),
    ]);

    const running = pipeline.run(event);
    // Nothing has run yet: the first record waits for its schema.
    expect(seen).toEqual([]);
    await running;

    expect(seen.map((order) => order.customer)).toEqual(['ana', 'bo']);
    expect(sink.totals).toEqual(new Map([['ana', 1], ['bo', 3]]));
    expect(faults.faults.map((fault) => fault.error.message)).toEqual([expect.stringContaining(issue)]);
  });

  it('keeps the loop synchronous while schemas are: every record ran before run() returned its promise', async () => {
    const { processor, seen } = ordersProcessor('orders');
    const { pipeline } = pipelineOf([processor]);
    const running = pipeline.run(kinesisEvent([1, 2, 3].map((total) => kinesisRecord({ json: { customer: 'ana', total } }))));
    expect(seen).toHaveLength(3);
    await running;
  });

  it('runProcessor gives an array for a sync schema and a promise for an async one', async () => {
    const [record] = normalizeAll(kinesisRecord({ json: { customer: 'ana', total: 1 } }));
    expect(Array.isArray(runProcessor(ordersProcessor('sync').processor, record!))).toBe(true);
    const pending = runProcessor(ordersProcessor('async', ZodKnownOrder).processor, record!);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toEqual([expect.objectContaining({ key: { id: 'ana' } })]);
  });
});

describe('a schema shared by processors', () => {
  it('is validated once per record, however many processors read the same part with it', async () => {
    const validate = countValidations(Order);
    const first = ordersProcessor('first');
    const second = ordersProcessor('second');
    const { pipeline } = pipelineOf([first.processor, second.processor]);
    await pipeline.run(kinesisEvent([kinesisRecord({ json: { customer: 'ana', total: 1 } }), kinesisRecord({ json: { customer: 'bo', total: 2 } })]));

    expect(validate).toHaveBeenCalledTimes(2);
    expect(second.seen).toEqual(first.seen);
    expect(first.seen).toHaveLength(2);
  });

  it('is validated once per record when it is async too', async () => {
    const Slow = z.object({ customer: z.string(), total: z.number() }).refine(async () => true);
    const validate = countValidations(Slow);
    const { pipeline, sink } = pipelineOf([ordersProcessor('first', Slow).processor, ordersProcessor('second', Slow).processor]);
    await pipeline.run(kinesisEvent([kinesisRecord({ json: { customer: 'ana', total: 1 } })]));

    expect(validate).toHaveBeenCalledTimes(1);
    expect(sink.totals).toEqual(new Map([['ana', 2]]));
  });

  it('is validated for each part it reads: the old image is not the new one', () => {
    const Item = z.object({ n: z.number() });
    const validate = countValidations(Item);
    const processor = defineProcessor({ name: 'both', select: {}, schema: { newImage: Item, oldImage: Item }, process: () => [] });
    const [modify] = normalizeAll(dynamodbRecord({ eventName: 'MODIFY', keys: { Id: 1 }, oldImage: { Id: 1, n: 1 }, newImage: { Id: 1, n: 2 } }));
    runProcessor(processor, modify!);
    expect(validate.mock.calls.map(([input]) => input)).toEqual([{ Id: 1, n: 2 }, { Id: 1, n: 1 }]);
  });
});

describe('how issues are reported', () => {
  /** A Standard Schema that always fails with `issues`. */
  const failing = (issues: readonly { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] }[]): StandardSchemaV1 => ({
    '~standard': { version: 1, vendor: 'test', validate: () => ({ issues }) },
  });

  const errorOf = (schema: StandardSchemaV1): SchemaValidationError => {
    const processor = defineProcessor({ name: 'strict', select: {}, schema: { payload: schema }, process: () => [] });
    const [record] = normalizeAll(kinesisRecord({ json: {} }));
    try {
      runProcessor(processor, record!);
    } catch (error) {
      if (error instanceof SchemaValidationError) return error;
      throw error;
    }
    throw new Error('The record was accepted.');
  };

  it('names paths of any key, and a schema that gives no path or no issue at all', () => {
    const error = errorOf(
      failing([
        { message: 'Bad price.', path: ['lines', { key: 3 }, 'unit price'] },
        { message: 'Not an order', path: [] },
        { message: 'Odd', path: [Symbol('meta')] },
      ]),
    );
    expect(error.message).toMatch(/processor "strict": payload\.lines\[3\]\["unit price"\]: Bad price; payload: Not an order; payload\[Symbol\(meta\)\]: Odd\.$/);
    expect(error.issues).toEqual([
      { path: ['payload', 'lines', 3, 'unit price'], message: 'Bad price.' },
      { path: ['payload'], message: 'Not an order' },
      { path: ['payload', expect.any(Symbol)], message: 'Odd' },
    ]);
    expect(errorOf(failing([])).message).toMatch(/: payload: the schema rejected it without saying why\.$/);
  });

  it('shows the first ten issues of many and keeps a bounded list', () => {
    const error = errorOf(failing(Array.from({ length: 500 }, (_, i) => ({ message: `Issue ${i}`, path: [i] }))));
    expect(error.message).toMatch(/payload\[9\]: Issue 9; and 490 more\.$/);
    expect(error.message).not.toContain('Issue 10;');
    expect(error.issues).toHaveLength(100);
  });

  it('makes a schema that throws a permanent failure of its processor', async () => {
    const throwing: StandardSchemaV1 = { '~standard': { version: 1, vendor: 'test', validate: () => { throw new RangeError('Maximum call stack size exceeded'); } } };
    const { pipeline, faults } = pipelineOf([defineProcessor({ name: 'deep', select: {}, schema: { payload: throwing }, process: () => [] })]);
    const outcome = await pipeline.run(kinesisEvent([kinesisRecord({ json: {} })]));
    expect(outcome.response.batchItemFailures).toEqual([]);
    expect(faults.faults.map((fault) => fault.error.code)).toEqual([ErrorCode.ProcessorFailed]);
  });
});

describe('routing and checks of processors with schemas', () => {
  it('gives a payload schema Kinesis records only, and an image schema DynamoDB records only', async () => {
    const kinesisOnly = ordersProcessor('orders');
    const imagesOnly = defineProcessor({ name: 'items', select: {}, schema: { keys: z.object({ Id: z.number() }) }, process: (record) => [addEffect(record, 'item')] });
    const { pipeline, sink } = pipelineOf([kinesisOnly.processor, imagesOnly]);
    await pipeline.run(kinesisEvent([kinesisRecord({ json: { customer: 'ana', total: 1 } })]));
    await pipeline.run(dynamodbEvent([dynamodbRecord({ eventName: 'INSERT', keys: { Id: 1 } })]));
    expect(sink.totals).toEqual(new Map([['ana', 1], ['item', 1]]));
  });

  it('asks `where` before validating, with records of the schema source only', () => {
    const validate = countValidations(Order);
    const asked: StreamRecord[] = [];
    const processor = defineProcessor({
      name: 'big-orders',
      select: { where: (record) => asked.push(record) > 1 },
      schema: { payload: Order },
      process: () => [],
    });
    const [first, second] = [0, 1].map(() => normalizeAll(kinesisRecord({ json: { customer: 'ana', total: 1 } }))[0]!);
    expect(runProcessor(processor, first!)).toEqual([]);
    runProcessor(processor, second!);
    expect(validate).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['a payload and an image', { payload: Order, newImage: Order }, {}, 'it reads either a Kinesis payload or DynamoDB images and keys, not both'],
    ['no part', {}, {}, 'it names no part to read (payload, newImage, oldImage or keys)'],
    ['an unknown part', { body: Order }, {}, 'unknown field "body" (known: payload, newImage, oldImage, keys)'],
    ['something that is not a Standard Schema', { payload: { parse: () => true } }, {}, 'payload is not a Standard Schema'],
    ['a selector of another source', { payload: Order }, { sources: ['aws:dynamodb'] }, 'sources holds "aws:dynamodb", but its schema reads a Kinesis payload'],
    ['kinds a change never has', { newImage: Order }, { kinds: ['kinesis-record'] }, 'kinds holds "kinesis-record", but its schema reads DynamoDB images and keys'],
  ])('refuses a processor whose schema has %s, naming it', (_case, schema, select, reason) => {
    const processor = { name: 'bad', select, schema, process: () => [] } as unknown as SchemaProcessor;
    const expected = expect.objectContaining({ code: ErrorCode.InvalidOptions, message: expect.stringContaining(`Processor "bad" has an invalid `) });
    expect(() => defineProcessor(processor)).toThrow(expected);
    expect(() => definePipeline({ processors: [processor], sinks: [] })).toThrow(expect.objectContaining({ message: expect.stringContaining(reason) }));
  });
});

describe('asPowertoolsRecordHandler with a schema', () => {
  it('validates each record before the processor runs, and reports one that does not match', async () => {
    const { processor, seen } = ordersProcessor('orders');
    const records = [kinesisRecord({ json: { customer: 'ana', total: 1 } }), kinesisRecord({ json: { customer: 'bo' } })];
    const response = await processPartialResponse(kinesisEvent(records), asPowertoolsRecordHandler(processor), new BatchProcessor(EventType.KinesisDataStreams), {
      processInParallel: false,
    });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.kinesis.sequenceNumber }]);
    expect(seen).toEqual([{ customer: 'ana', total: 1 }]);
  });
});
