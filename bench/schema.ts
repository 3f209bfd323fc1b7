/**
 * The schema workload (`npm run bench -- --only schema`): the Kinesis JSON batches of `kinesis-json-1kb`, each payload
 * validated by one zod schema before its Score is summed. Validation is opt-in in shardflow (a processor declares a
 * schema), so it is measured on its own, against Powertools' `BatchProcessor` with its parser integration
 * (`@aws-lambda-powertools/batch/parser`) and the same schema, and a hand loop that calls `safeParse`. Every subject
 * validates every record with the same schema; the runner checks that they agree.
 *
 * Powertools gets its best configuration: a record schema built once from its own Kinesis record schema, whose data
 * is base64-decoded and then its `JSONStringified(schema)`. Its documented `innerSchema` option (with the `base64`
 * transformer) is much slower: it builds that record schema again for every record (zod compiles each new object
 * schema on its first parse), and its `Base64Encoded` helper tries `gunzipSync` on every payload, which on Node 20
 * keeps about 9 KiB of memory per plain JSON payload for good. `--inner-schema` adds that subject; give it small
 * batches (`--only schema --sizes 100,1000 --quick`), or the process runs out of memory.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { ParsedRecord } from '@aws-lambda-powertools/batch/types';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { KinesisDataStreamRecord, KinesisDataStreamRecordPayload } from '@aws-lambda-powertools/parser/schemas/kinesis';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { z } from 'zod';
import { defineProcessor } from '../src/runtime/define-processor';
import { createHandler } from '../src/runtime/handler';
import { definePipeline } from '../src/runtime/pipeline';
import { measureSizes, type RuntimeOptions, type SizeReport } from './runtime';
import { SessionSumSink, type Scenario, type Subject, type Totals } from './workload';

/** What a score event of the ~1 KB workload is, in part (the rest passes unchecked); the workload makes only valid ones. */
const ScoreEvent = z.object({
  Username: z.string().min(1),
  Score: z.number().int(),
  GameId: z.string(),
  Level: z.number().int().positive(),
  Timestamp: z.iso.datetime(),
  Platform: z.enum(['android', 'ios']),
});
type ScoreEvent = z.output<typeof ScoreEvent>;

function add(totals: Totals, event: ScoreEvent): void {
  totals.set(event.Username, (totals.get(event.Username) ?? 0) + event.Score);
}

/** A careful hand-written handler with the schema: decode, parse, `safeParse`, sum. */
function handLoopZod(): Subject {
  return {
    name: 'hand-loop-zod',
    async run(event) {
      const totals: Totals = new Map();
      for (const record of (event as KinesisStreamEvent).Records) {
        const parsed = ScoreEvent.safeParse(JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')));
        if (!parsed.success) throw new Error(`Record ${record.eventID} does not match the schema.`);
        add(totals, parsed.data);
      }
      return totals;
    },
  };
}

/** A Kinesis record whose data is base64 JSON of a score event, in Powertools' own record schema; built once. */
const ScoreEventRecord = KinesisDataStreamRecord.extend({
  kinesis: KinesisDataStreamRecordPayload.extend({
    data: z
      .string()
      .transform((data) => Buffer.from(data, 'base64').toString('utf8'))
      .pipe(JSONStringified(ScoreEvent)),
  }),
});

/**
 * Powertools' BatchProcessor with its parser: the record schema above (`schema`), or the payload schema as
 * `innerSchema` with the `base64` transformer (`inner`); parallel (its default) or sequential.
 */
function powertoolsParser(name: string, processInParallel: boolean, inner = false): Subject {
  const processor = new BatchProcessor(
    EventType.KinesisDataStreams,
    inner ? { parser, innerSchema: ScoreEvent, transformer: 'base64' } : { parser, schema: ScoreEventRecord },
  );
  return {
    name,
    async run(event, context) {
      const totals: Totals = new Map();
      // The parser hands the handler the record with `kinesis.data` parsed by the schema.
      const handler = async (record: ParsedRecord<KinesisStreamRecord, ScoreEvent>) => add(totals, record.kinesis.data);
      const response = await processPartialResponse(event, handler, processor, { context, processInParallel });
      if (response.batchItemFailures.length > 0) throw new Error('Powertools reported failures in the benchmark batch.');
      return totals;
    },
  };
}

/** shardflow on the path users run, with a processor that declares the schema: the value it gets is validated and typed. */
function shardflowZod(): Subject {
  const sink = new SessionSumSink(undefined);
  const scores = defineProcessor({
    name: 'scores',
    select: {},
    schema: { payload: ScoreEvent },
    process: (record, { payload }) => [{ type: 'add', provenance: record, table: 'GameScoresByUser', key: { Username: payload.Username }, add: { Score: payload.Score } }],
  });
  const handler = createHandler(definePipeline({ processors: [scores], sinks: [sink] }), { serviceName: 'bench' });
  return {
    name: 'shardflow-zod',
    async run(event, context) {
      sink.totals = new Map();
      const response = await handler(event, context);
      if (response.batchItemFailures.length > 0) throw new Error('shardflow reported failures in the benchmark batch.');
      return sink.totals;
    },
  };
}

export interface SchemaReport {
  readonly workload: Scenario;
  readonly schema: 'zod';
  readonly shardflowSubject: string;
  readonly sizes: readonly SizeReport[];
}

/** Measures the schema workload with the runtime's rounds, blocks and settling; ratios against the zod hand loop and Powertools' parser. */
export async function measureSchema(options: RuntimeOptions): Promise<SchemaReport> {
  const subjects = [
    handLoopZod(),
    powertoolsParser('powertools-parser', true),
    shardflowZod(),
    ...(options.diagnostics ? [powertoolsParser('powertools-parser-sequential', false)] : []),
    ...(options.innerSchema === true ? [powertoolsParser('powertools-inner-schema', true, true)] : []),
  ];
  const sizes = await measureSizes(
    {
      subjects,
      goal: 'shardflow-zod',
      handLoop: 'hand-loop-zod',
      powertools: 'powertools-parser',
      ...(options.diagnostics ? { powertoolsSequential: 'powertools-parser-sequential' } : {}),
    },
    options,
  );
  return { workload: options.workload, schema: 'zod', shardflowSubject: 'shardflow-zod', sizes };
}
