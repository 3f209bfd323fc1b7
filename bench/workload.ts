/**
 * The benchmark's batches and its five subjects: a hand loop, Powertools (parallel and sequential), normalizing
 * alone and the shardflow pipeline. Every subject does the same work per record: decode the record, parse it
 * (JSON for Kinesis, unmarshall the new image for DynamoDB) and add its Score to its user's total. Each run
 * returns the totals, so the runner can check that the subjects agree.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  AttributeValue,
  Context,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import type { StreamEvent } from '../src/runtime/types';
import { RecordSource, type StreamRecord } from '../src/runtime/model';
import { normalizeRecord } from '../src/runtime/normalize';
import { definePipeline, type Pipeline } from '../src/runtime/pipeline';
import type { AddEffect, EffectBase, Processor, RecordEffects, Sink, SinkResult, SinkSession } from '../src/runtime/types';

export type Totals = Map<string, number>;

export const Scenario = { Kinesis: 'kinesis-json', DynamoDB: 'dynamodb-new-image' } as const;
export type Scenario = (typeof Scenario)[keyof typeof Scenario];

export interface Subject {
  readonly name: string;
  run(event: StreamEvent, context: Context): Promise<Totals>;
}

const USERS = 200;
const REGION = 'us-east-1';
const SHARD = 'shardId-000000000000';
const KINESIS_SEQUENCE_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;
const DYNAMODB_SEQUENCE_BASE = 4_421_584_500_000_000_017_450_439_091n;
const BASE_SECONDS = 1_767_225_600;

function username(i: number): string {
  return `player-${(i * 7919) % USERS}`;
}

/**
 * The event as a handler receives it: Lambda's runtime hands over `JSON.parse` of the payload. Strings built here
 * with template literals would be rope (cons) strings, slower to read than the flat strings of a real event.
 */
function asDelivered<T>(event: T): T {
  return JSON.parse(JSON.stringify(event)) as T;
}

/** Kinesis records whose data is a game score as JSON (what the Lab-Stream producer sends). */
export function kinesisBatch(size: number): KinesisStreamEvent {
  const records: KinesisStreamRecord[] = [];
  for (let i = 0; i < size; i++) {
    const user = username(i);
    const sequenceNumber = (KINESIS_SEQUENCE_BASE + BigInt(i)).toString();
    const payload = {
      Username: user,
      Score: (i * 31) % 1000,
      GameId: `game-${i % 17}`,
      Level: (i % 40) + 1,
      Timestamp: new Date((BASE_SECONDS + i) * 1000).toISOString(),
      Platform: i % 3 === 0 ? 'android' : 'ios',
    };
    records.push({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: user,
        sequenceNumber,
        data: Buffer.from(JSON.stringify(payload), 'utf8').toString('base64'),
        approximateArrivalTimestamp: BASE_SECONDS + i / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${SHARD}:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-role',
      awsRegion: REGION,
      eventSourceARN: `arn:aws:kinesis:${REGION}:123456789012:stream/Lab-Stream`,
    });
  }
  return asDelivered({ Records: records });
}

/** INSERT records of the GameScoreRecords table under a NEW_IMAGE stream (the seed's setting). */
export function dynamodbBatch(size: number): DynamoDBStreamEvent {
  const records: DynamoDBRecord[] = [];
  for (let i = 0; i < size; i++) {
    const item = {
      RecordID: 1_000_000 + i,
      Username: username(i),
      Score: (i * 31) % 1000,
      GameId: `game-${i % 17}`,
      Level: (i % 40) + 1,
      Timestamp: new Date((BASE_SECONDS + i) * 1000).toISOString(),
    };
    records.push({
      eventID: `e${(i + 1).toString(16).padStart(31, '0')}`,
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      dynamodb: {
        ApproximateCreationDateTime: BASE_SECONDS + i,
        Keys: marshall({ RecordID: item.RecordID }) as Record<string, AttributeValue>,
        NewImage: marshall(item) as Record<string, AttributeValue>,
        SequenceNumber: (DYNAMODB_SEQUENCE_BASE + BigInt(i)).toString(),
        SizeBytes: 120,
        StreamViewType: 'NEW_IMAGE',
      },
      eventSourceARN: `arn:aws:dynamodb:${REGION}:123456789012:table/GameScoreRecords/stream/2026-01-01T00:00:00.000`,
    });
  }
  return asDelivered({ Records: records });
}

function add(totals: Totals, user: unknown, score: unknown): void {
  const key = String(user);
  totals.set(key, (totals.get(key) ?? 0) + Number(score));
}

/** (a) What a careful hand-written handler does: one loop, no framework. */
export function handLoop(scenario: Scenario): Subject {
  return {
    name: 'hand-loop',
    async run(event) {
      const totals: Totals = new Map();
      if (scenario === Scenario.Kinesis) {
        for (const record of (event as KinesisStreamEvent).Records) {
          const value = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as { Username: unknown; Score: unknown };
          add(totals, value.Username, value.Score);
        }
      } else {
        for (const record of (event as DynamoDBStreamEvent).Records) {
          const item = unmarshall(record.dynamodb!.NewImage as Parameters<typeof unmarshall>[0]);
          add(totals, item.Username, item.Score);
        }
      }
      return totals;
    },
  };
}

/** (b) Powertools' BatchProcessor + processPartialResponse with the same record handler. */
export function powertools(scenario: Scenario, processInParallel: boolean): Subject {
  const kinesis = scenario === Scenario.Kinesis;
  const processor = new BatchProcessor(kinesis ? EventType.KinesisDataStreams : EventType.DynamoDBStreams);
  return {
    name: processInParallel ? 'powertools' : 'powertools-sequential',
    async run(event, context) {
      const totals: Totals = new Map();
      const handler = kinesis
        ? async (record: KinesisStreamRecord) => {
            const value = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as { Username: unknown; Score: unknown };
            add(totals, value.Username, value.Score);
          }
        : async (record: DynamoDBRecord) => {
            const item = unmarshall(record.dynamodb!.NewImage as Parameters<typeof unmarshall>[0]);
            add(totals, item.Username, item.Score);
          };
      await processPartialResponse(event, handler as (record: KinesisStreamRecord | DynamoDBRecord) => Promise<void>, processor, {
        context,
        processInParallel,
      });
      return totals;
    },
  };
}

/**
 * A sink that sums AddEffects in memory, as a DynamoDB sink pre-aggregates them per key before writing: the
 * pipeline keeps the batch's effects and hands them over in one `apply`.
 */
class SumSink implements Sink<AddEffect> {
  readonly name = 'sum';
  totals: Totals = new Map();

  accepts(effect: EffectBase): effect is AddEffect {
    return effect.type === 'add';
  }

  async apply(batch: readonly RecordEffects<AddEffect>[]): Promise<SinkResult> {
    const session = new SumSession(this);
    for (let i = 0; i < batch.length; i++) session.add(batch[i]!.record, batch[i]!.effects);
    return session.flush();
  }
}

/** The same sink with sessions: each record's effects are folded into the batch's sums as the record finishes. */
export class SessionSumSink extends SumSink {
  open(): SinkSession<AddEffect> {
    return new SumSession(this);
  }
}

/** One batch's sums, merged into the sink's totals at flush (a session that is never flushed leaves no trace). */
class SumSession implements SinkSession<AddEffect> {
  private readonly staged: Totals = new Map();

  constructor(private readonly sink: SumSink) {}

  add(_record: StreamRecord, effects: readonly AddEffect[]): void {
    for (let j = 0; j < effects.length; j++) add(this.staged, effects[j]!.key.Username, effects[j]!.add.Score);
  }

  async flush(): Promise<SinkResult> {
    for (const [user, score] of this.staged) add(this.sink.totals, user, score);
    return { failed: [] };
  }
}

/**
 * The score processor a user would write: a pure function from a record to one AddEffect. The record is its
 * own provenance (a StreamRecord is a Provenance): it stays alive until the sinks ran anyway, so copying its
 * provenance into every effect would only add an object per record.
 */
const scores: Processor<AddEffect> = {
  name: 'scores',
  select: {},
  process(record: StreamRecord) {
    const value = (record.source === RecordSource.Kinesis ? record.payload.json() : record.newImage) as {
      Username: string;
      Score: number;
    };
    return [{ type: 'add', provenance: record, table: 'GameScoresByUser', key: { Username: value.Username }, add: { Score: value.Score } }];
  },
};

/**
 * Diagnostic, not a goal subject: shardflow's normalizer and the same parse and sum, with no pipeline around
 * it and nothing kept. The gap to the hand loop is the normalizer's cost; the gap to `shardflow` is the
 * pipeline's (routing, effects, keeping every record and effect until the sink runs).
 */
export function normalizeOnly(): Subject {
  return {
    name: 'normalize-only',
    async run(event) {
      const totals: Totals = new Map();
      const records = event.Records as unknown[];
      for (let i = 0; i < records.length; i++) {
        const result = normalizeRecord(records[i], i);
        if (!result.ok) throw result.error;
        for (const record of result.records) {
          const value = (record.source === RecordSource.Kinesis ? record.payload.json() : record.newImage) as { Username: unknown; Score: unknown };
          add(totals, value.Username, value.Score);
        }
      }
      return totals;
    },
  };
}

/**
 * (c) The shardflow pipeline: normalize, route, process, apply through the sink, partial batch response. The sink
 * takes effects through a session as records finish; with `sessions: false` (a diagnostic, run by
 * bench/profile.ts only: a second pipeline in the runner's process would share the loop's type feedback with the
 * goal subject) the pipeline keeps every record's effects for one `apply`.
 */
export function shardflow({ sessions = true }: { sessions?: boolean } = {}): Subject {
  const sink = sessions ? new SessionSumSink() : new SumSink();
  const pipeline: Pipeline = definePipeline({ processors: [scores], sinks: [sink] });
  return {
    name: sessions ? 'shardflow' : 'shardflow-apply',
    async run(event, context) {
      sink.totals = new Map();
      const outcome = await pipeline.run(event, context);
      if (outcome.response.batchItemFailures.length > 0) throw new Error('shardflow reported failures in the benchmark batch.');
      return sink.totals;
    },
  };
}
