/**
 * The schema workload (`npm run bench -- --schema`): the Kinesis JSON batches of `kinesis-json`, each payload
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
 * batches (`--size 1000 --quick`), or the process runs out of memory.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { ParsedRecord } from '@aws-lambda-powertools/batch/types';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { KinesisDataStreamRecord, KinesisDataStreamRecordPayload } from '@aws-lambda-powertools/parser/schemas/kinesis';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { z } from 'zod';
import { defineProcessor } from '../src/runtime/define-processor';
import { definePipeline } from '../src/runtime/pipeline';
import type { StreamEvent } from '../src/runtime/types';
import { SessionSumSink, kinesisBatch, type Subject, type Totals } from './workload';

export const SCHEMA_SCENARIO = 'kinesis-json-zod';

/** What a score event is; `kinesisBatch` makes only valid ones. */
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

/** The shardflow pipeline with a processor that declares the schema: the value it gets is validated and typed. */
function shardflowZod(): Subject {
  const sink = new SessionSumSink();
  const scores = defineProcessor({
    name: 'scores',
    select: {},
    schema: { payload: ScoreEvent },
    process: (record, { payload }) => [{ type: 'add', provenance: record, table: 'GameScoresByUser', key: { Username: payload.Username }, add: { Score: payload.Score } }],
  });
  const pipeline = definePipeline({ processors: [scores], sinks: [sink] });
  return {
    name: 'shardflow-zod',
    async run(event, context) {
      sink.totals = new Map();
      const outcome = await pipeline.run(event, context);
      if (outcome.response.batchItemFailures.length > 0 || outcome.stats.faulted > 0) throw new Error('shardflow failed records of the benchmark batch.');
      return sink.totals;
    },
  };
}

const GOAL_VS_HAND_LOOP = 0.8;
/** The goal: validation in shardflow at least as fast as in Powertools. */
const GOAL_VS_POWERTOOLS = 1;

interface Measured {
  readonly recordsPerSecond: number;
  readonly wallRecordsPerSecond: number;
}

/**
 * Measures the schema scenario with the runner's `measure` (same rounds, blocks and settling as the other
 * scenarios) and reports it in the runner's scenario shape.
 */
export async function measureSchemaScenario<R extends Measured>(
  size: number,
  measure: (subjects: readonly Subject[], event: StreamEvent) => Promise<Record<string, R>>,
) {
  const subjects = [
    handLoopZod(),
    powertoolsParser('powertools-parser', true),
    powertoolsParser('powertools-parser-sequential', false),
    ...(process.argv.includes('--inner-schema') ? [powertoolsParser('powertools-inner-schema', true, true)] : []),
    shardflowZod(),
  ];
  const results = await measure(subjects, kinesisBatch(size));
  const rate = (name: string) => results[name]!.recordsPerSecond;
  const ratio = (value: number) => Math.round(value * 1000) / 1000;
  const vsHand = rate('shardflow-zod') / rate('hand-loop-zod');
  const vsPowertools = rate('shardflow-zod') / rate('powertools-parser');
  return {
    subjects: results,
    ratios: {
      shardflowVsHandLoop: ratio(vsHand),
      shardflowVsPowertools: ratio(vsPowertools),
      shardflowVsPowertoolsSequential: ratio(rate('shardflow-zod') / rate('powertools-parser-sequential')),
      shardflowVsBestPowertools: ratio(rate('shardflow-zod') / Math.max(rate('powertools-parser'), rate('powertools-parser-sequential'))),
      ...(results['powertools-inner-schema'] === undefined ? {} : { shardflowVsPowertoolsInnerSchema: ratio(rate('shardflow-zod') / rate('powertools-inner-schema')) }),
      wallShardflowVsHandLoop: ratio(results['shardflow-zod']!.wallRecordsPerSecond / results['hand-loop-zod']!.wallRecordsPerSecond),
    },
    goals: {
      shardflowVsHandLoopAtLeast: GOAL_VS_HAND_LOOP,
      shardflowVsPowertoolsAtLeast: GOAL_VS_POWERTOOLS,
      powertoolsGoalSubject: 'powertools-parser',
      met: { vsHandLoop: vsHand >= GOAL_VS_HAND_LOOP, vsPowertools: vsPowertools >= GOAL_VS_POWERTOOLS },
    },
  };
}
