/**
 * The runtime benchmark's workloads and subjects. A workload is a kind of batch (Kinesis JSON of ~60 B and ~1 KB,
 * KPL aggregates, gzip records, DynamoDB NEW_IMAGE INSERTs, NEW_AND_OLD_IMAGES MODIFYs) and the same work per record
 * for every subject: decode the record, parse it (JSON, or the images) and add its score to its user's total.
 * Subjects: a hand-written loop, Powertools' BatchProcessor (parallel, its default, and sequential), shardflow's
 * normalizer alone, and shardflow on the path the README teaches: a processor returning `AddEffect`s with
 * `provenanceOf(record)`, a sink, `definePipeline` and `createHandler`. The sink takes the batch in one `apply` or
 * through a session. Each run returns the totals, so the runner can check that the subjects agree.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
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
import { ValidationError } from '../src/runtime/errors';
import { createHandler } from '../src/runtime/handler';
import { deaggregate } from '../src/runtime/kpl';
import { aggregate } from '../src/runtime/kpl-writer';
import { RecordSource, provenanceOf, type Item, type StreamRecord } from '../src/runtime/model';
import { normalizeRecord } from '../src/runtime/normalize';
import { definePipeline } from '../src/runtime/pipeline';
import type { AddEffect, EffectBase, Processor, RecordEffects, Sink, SinkResult, SinkSession, StreamEvent } from '../src/runtime/types';

export type Totals = Map<string, number>;

/** The workloads. `Kinesis` and `DynamoDB` keep their names from the first benchmark. */
export const Scenario = {
  /** Kinesis records whose data is base64 JSON of about 60 bytes. */
  Kinesis: 'kinesis-json-60b',
  /** Kinesis records whose data is base64 JSON of about 1 KB. */
  KinesisLarge: 'kinesis-json-1kb',
  /** KPL aggregates of 10 user records of ~60-byte JSON each; batch size counts user records. */
  Kpl: 'kinesis-kpl',
  /** Kinesis records whose data is gzip of the ~1 KB JSON (as CloudWatch Logs subscriptions send). */
  Gzip: 'kinesis-gzip',
  /** INSERT records of GameScoreRecords under a NEW_IMAGE stream. */
  DynamoDB: 'dynamodb-insert',
  /** MODIFY records under a NEW_AND_OLD_IMAGES stream: the score's change, read from both images. */
  DynamoDBModify: 'dynamodb-modify',
} as const;
export type Scenario = (typeof Scenario)[keyof typeof Scenario];

/** How the shardflow subject's sink takes the batch. */
export const SinkContract = {
  /** `apply` only: the pipeline keeps every record's effects for one call. */
  Apply: 'apply',
  /** `open()`: a session folds each record's effects as the record finishes. */
  Session: 'session',
} as const;
export type SinkContract = (typeof SinkContract)[keyof typeof SinkContract];

export interface Subject {
  readonly name: string;
  run(event: StreamEvent, context: Context): Promise<Totals>;
}

const USERS = 200;
/** User records per KPL aggregate. */
const KPL_RECORDS = 10;
const REGION = 'us-east-1';
const SHARD = 'shardId-000000000000';
const STREAM_ARN = `arn:aws:kinesis:${REGION}:123456789012:stream/Lab-Stream`;
const TABLE_STREAM_ARN = `arn:aws:dynamodb:${REGION}:123456789012:table/GameScoreRecords/stream/2026-01-01T00:00:00.000`;
const KINESIS_SEQUENCE_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;
const DYNAMODB_SEQUENCE_BASE = 4_421_584_500_000_000_017_450_439_091n;
const BASE_SECONDS = 1_767_225_600;
const TOTALS_TABLE = 'GameScoresByUser';

function username(i: number): string {
  return `player-${(i * 7919) % USERS}`;
}

function score(i: number): number {
  return (i * 31) % 1000;
}

/**
 * The event as a handler receives it: Lambda's runtime hands over `JSON.parse` of the payload. Strings built here
 * with template literals would be rope (cons) strings, slower to read than the flat strings of a real event.
 */
function asDelivered<T>(event: T): T {
  return JSON.parse(JSON.stringify(event)) as T;
}

/** ~60 bytes: `{"Username":"player-123","Score":617,"GameId":"game-12"}`. */
function smallScore(i: number): Record<string, unknown> {
  return { Username: username(i), Score: score(i), GameId: `game-${i % 17}` };
}

/** ~1 KB: a score event with the context a real producer sends along. */
function largeScore(i: number): Record<string, unknown> {
  return {
    ...smallScore(i),
    Level: (i % 40) + 1,
    Timestamp: new Date((BASE_SECONDS + i) * 1000).toISOString(),
    Platform: i % 3 === 0 ? 'android' : 'ios',
    Session: { id: `s-${(i * 2654435761) % 4294967296}`, startedAt: new Date((BASE_SECONDS + i - 600) * 1000).toISOString(), region: 'eu-west-1' },
    Device: { model: `model-${i % 23}`, os: i % 3 === 0 ? 'Android 15' : 'iOS 18.4', locale: 'en-GB', screen: { width: 1179, height: 2556 } },
    Items: Array.from({ length: 6 }, (_, k) => ({ sku: `sku-${(i + k) % 97}`, quantity: (k % 3) + 1, price: ((i + k) % 50) + 0.99 })),
    Achievements: ['first-blood', 'combo-10', 'no-damage', 'speedrun'].slice(0, (i % 4) + 1),
    Notes: 'Recorded by the game client after the level ended; totals are recomputed by the backend.',
  };
}

function kinesisRecordOf(i: number, partitionKey: string, data: Uint8Array): KinesisStreamRecord {
  const sequenceNumber = (KINESIS_SEQUENCE_BASE + BigInt(i)).toString();
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: Buffer.from(data).toString('base64'),
      approximateArrivalTimestamp: BASE_SECONDS + i / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${SHARD}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-role',
    awsRegion: REGION,
    eventSourceARN: STREAM_ARN,
  };
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

/** Kinesis records whose data is a score as ~60-byte JSON. */
export function kinesisBatch(size: number): KinesisStreamEvent {
  return asDelivered({ Records: Array.from({ length: size }, (_, i) => kinesisRecordOf(i, username(i), json(smallScore(i)))) });
}

function kinesisLargeBatch(size: number): KinesisStreamEvent {
  return asDelivered({ Records: Array.from({ length: size }, (_, i) => kinesisRecordOf(i, username(i), json(largeScore(i)))) });
}

function gzipBatch(size: number): KinesisStreamEvent {
  return asDelivered({ Records: Array.from({ length: size }, (_, i) => kinesisRecordOf(i, username(i), gzipSync(json(largeScore(i))))) });
}

/** `size` user records in aggregates of `KPL_RECORDS`. */
function kplBatch(size: number): KinesisStreamEvent {
  const records: KinesisStreamRecord[] = [];
  for (let first = 0; first < size; first += KPL_RECORDS) {
    const users = Array.from({ length: Math.min(KPL_RECORDS, size - first) }, (_, k) => ({ partitionKey: username(first + k), data: json(smallScore(first + k)) }));
    records.push(kinesisRecordOf(first, username(first), aggregate(users)));
  }
  return asDelivered({ Records: records });
}

function dynamodbRecordOf(i: number, eventName: 'INSERT' | 'MODIFY', images: { NewImage: object; OldImage?: object }): DynamoDBRecord {
  return {
    eventID: `e${(i + 1).toString(16).padStart(31, '0')}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: REGION,
    dynamodb: {
      ApproximateCreationDateTime: BASE_SECONDS + i,
      Keys: marshall({ RecordID: 1_000_000 + i }) as Record<string, AttributeValue>,
      NewImage: marshall(images.NewImage) as Record<string, AttributeValue>,
      ...(images.OldImage === undefined ? {} : { OldImage: marshall(images.OldImage) as Record<string, AttributeValue> }),
      SequenceNumber: (DYNAMODB_SEQUENCE_BASE + BigInt(i)).toString(),
      SizeBytes: 120,
      StreamViewType: images.OldImage === undefined ? 'NEW_IMAGE' : 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: TABLE_STREAM_ARN,
  };
}

function scoreItem(i: number, points: number): Record<string, unknown> {
  return {
    RecordID: 1_000_000 + i,
    Username: username(i),
    Score: points,
    GameId: `game-${i % 17}`,
    Level: (i % 40) + 1,
    Timestamp: new Date((BASE_SECONDS + i) * 1000).toISOString(),
  };
}

/** INSERT records of the GameScoreRecords table under a NEW_IMAGE stream (the seed's setting). */
export function dynamodbBatch(size: number): DynamoDBStreamEvent {
  return asDelivered({ Records: Array.from({ length: size }, (_, i) => dynamodbRecordOf(i, 'INSERT', { NewImage: scoreItem(i, score(i)) })) });
}

/** MODIFY records under NEW_AND_OLD_IMAGES: a score corrected from `score(i)` to `score(i) + i % 7`. */
function dynamodbModifyBatch(size: number): DynamoDBStreamEvent {
  return asDelivered({
    Records: Array.from({ length: size }, (_, i) => dynamodbRecordOf(i, 'MODIFY', { OldImage: scoreItem(i, score(i)), NewImage: scoreItem(i, score(i) + (i % 7)) })),
  });
}

function add(totals: Totals, user: unknown, points: unknown): void {
  const key = String(user);
  totals.set(key, (totals.get(key) ?? 0) + Number(points));
}

interface ScoreFields {
  readonly Username: unknown;
  readonly Score: unknown;
}

const parseJson = (bytes: Buffer): ScoreFields => JSON.parse(bytes.toString('utf8')) as ScoreFields;
const base64 = (record: KinesisStreamRecord): Buffer => Buffer.from(record.kinesis.data, 'base64');
const image = (value: unknown): Record<string, unknown> => unmarshall(value as Parameters<typeof unmarshall>[0]);

/** What a careful hand-written handler does for one Lambda record of the workload. */
type HandWork = (record: never, totals: Totals) => void;

const HAND_WORK: Readonly<Record<Scenario, HandWork>> = {
  [Scenario.Kinesis]: (record: KinesisStreamRecord, totals) => {
    const value = parseJson(base64(record));
    add(totals, value.Username, value.Score);
  },
  [Scenario.KinesisLarge]: (record: KinesisStreamRecord, totals) => {
    const value = parseJson(base64(record));
    add(totals, value.Username, value.Score);
  },
  [Scenario.Gzip]: (record: KinesisStreamRecord, totals) => {
    const value = parseJson(gunzipSync(base64(record)));
    add(totals, value.Username, value.Score);
  },
  // No KPL deaggregation package is installed; the hand loop borrows shardflow's (a protobuf walk and an MD5).
  [Scenario.Kpl]: (record: KinesisStreamRecord, totals) => {
    for (const user of deaggregate(base64(record), record.eventID)) {
      const value = parseJson(Buffer.from(user.data.buffer, user.data.byteOffset, user.data.byteLength));
      add(totals, value.Username, value.Score);
    }
  },
  [Scenario.DynamoDB]: (record: DynamoDBRecord, totals) => {
    const item = image(record.dynamodb!.NewImage);
    add(totals, item.Username, item.Score);
  },
  [Scenario.DynamoDBModify]: (record: DynamoDBRecord, totals) => {
    const before = image(record.dynamodb!.OldImage);
    const after = image(record.dynamodb!.NewImage);
    add(totals, before.Username, -Number(before.Score));
    add(totals, after.Username, after.Score);
  },
};

const EVENTS: Readonly<Record<Scenario, (size: number) => StreamEvent>> = {
  [Scenario.Kinesis]: kinesisBatch,
  [Scenario.KinesisLarge]: kinesisLargeBatch,
  [Scenario.Gzip]: gzipBatch,
  [Scenario.Kpl]: kplBatch,
  [Scenario.DynamoDB]: dynamodbBatch,
  [Scenario.DynamoDBModify]: dynamodbModifyBatch,
};

/** A batch of the workload holding `size` records (user records, for KPL aggregates). */
export function workloadEvent(scenario: Scenario, size: number): StreamEvent {
  return EVENTS[scenario](size);
}

/** Records (user records, for KPL) per Lambda record: a Lambda batch holds at most 10,000 Lambda records. */
export function recordsPerLambdaRecord(scenario: Scenario): number {
  return scenario === Scenario.Kpl ? KPL_RECORDS : 1;
}

export function isKinesis(scenario: Scenario): boolean {
  return scenario.startsWith('kinesis');
}

/** (a) What a careful hand-written handler does: one loop, no framework. */
export function handLoop(scenario: Scenario): Subject {
  const work = HAND_WORK[scenario] as (record: unknown, totals: Totals) => void;
  return {
    name: 'hand-loop',
    async run(event) {
      const totals: Totals = new Map();
      const records = event.Records as unknown[];
      for (let i = 0; i < records.length; i++) work(records[i], totals);
      return totals;
    },
  };
}

/** (b) Powertools' BatchProcessor + processPartialResponse with the same work in an async record handler. */
export function powertools(scenario: Scenario, processInParallel: boolean): Subject {
  const processor = new BatchProcessor(isKinesis(scenario) ? EventType.KinesisDataStreams : EventType.DynamoDBStreams);
  const work = HAND_WORK[scenario] as (record: unknown, totals: Totals) => void;
  return {
    name: processInParallel ? 'powertools' : 'powertools-sequential',
    async run(event, context) {
      const totals: Totals = new Map();
      const handler = async (record: KinesisStreamRecord | DynamoDBRecord) => work(record, totals);
      await processPartialResponse(event, handler, processor, { context, processInParallel });
      return totals;
    },
  };
}

/** The fields a score event must have, checked as a user's processor checks them. */
function scoreEffects(record: StreamRecord, value: ScoreFields | undefined, delta = value?.Score): AddEffect[] {
  if (typeof value?.Username !== 'string' || typeof delta !== 'number') {
    throw new ValidationError(`Record ${record.recordId} is not a score: it needs Username and Score.`, { recordId: record.recordId });
  }
  return [{ type: 'add', provenance: provenanceOf(record), table: TOTALS_TABLE, key: { Username: value.Username }, add: { Score: delta } }];
}

/**
 * The score processor a user writes, shaped like the README's: a pure function from a record to one AddEffect,
 * with `provenanceOf(record)` as its provenance.
 */
function scoreProcessor(scenario: Scenario): Processor<AddEffect> {
  return {
    name: 'scores',
    select: {},
    process(record) {
      if (record.source === RecordSource.Kinesis) return scoreEffects(record, record.payload.json() as ScoreFields);
      if (scenario !== Scenario.DynamoDBModify) return scoreEffects(record, record.newImage as ScoreFields | undefined);
      // The score's change: both images read (a user change would move points between users; not in this workload).
      const before = record.oldImage as (Item & ScoreFields) | undefined;
      const after = record.newImage as (Item & ScoreFields) | undefined;
      return scoreEffects(record, after, typeof after?.Score === 'number' && typeof before?.Score === 'number' ? after.Score - before.Score : undefined);
    },
  };
}

/**
 * A sink that sums AddEffects in memory, as a DynamoDB sink pre-aggregates them per key before writing. Through
 * `apply` only: the pipeline keeps the batch's effects for one call.
 */
class SumSink implements Sink<AddEffect> {
  readonly name = 'sum';
  totals: Totals = new Map();

  constructor(readonly probe: MemoryProbe | undefined) {}

  accepts(effect: EffectBase): effect is AddEffect {
    return effect.type === 'add';
  }

  async apply(batch: readonly RecordEffects<AddEffect>[]): Promise<SinkResult> {
    this.probe?.sample();
    const staged: Totals = new Map();
    for (let i = 0; i < batch.length; i++) {
      const effects = batch[i]!.effects;
      for (let j = 0; j < effects.length; j++) add(staged, effects[j]!.key.Username, effects[j]!.add.Score);
    }
    for (const [user, points] of staged) add(this.totals, user, points);
    return { failed: [] };
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
    this.sink.probe?.sample();
    for (const [user, points] of this.staged) add(this.sink.totals, user, points);
    return { failed: [] };
  }
}

/**
 * Diagnostic, not a goal subject: shardflow's normalizer and the same parse and sum, with no pipeline around it and
 * nothing kept. The gap to the hand loop is the normalizer's cost; the gap to `shardflow` is the pipeline's.
 */
export function normalizeOnly(scenario: Scenario): Subject {
  const processor = scoreProcessor(scenario);
  const clock = { remainingTimeMs: () => Infinity };
  return {
    name: 'normalize-only',
    async run(event) {
      const totals: Totals = new Map();
      const records = event.Records as unknown[];
      for (let i = 0; i < records.length; i++) {
        const result = normalizeRecord(records[i], i);
        if (!result.ok) throw result.error;
        for (const record of result.records) {
          for (const effect of processor.process(record, clock) as AddEffect[]) add(totals, effect.key.Username, effect.add.Score);
        }
      }
      return totals;
    },
  };
}

/** The memory pass's hook: `sample` (a full collection and a look at the heap) every few records and at the sink. */
export interface MemoryProbe {
  readonly sampleEvery: number;
  sample(): void;
}

/** The processor, calling the probe every `sampleEvery` records. */
function probed(processor: Processor<AddEffect>, probe: MemoryProbe): Processor<AddEffect> {
  let seen = 0;
  return {
    ...processor,
    process(record, context) {
      if (++seen % probe.sampleEvery === 0) probe.sample();
      return processor.process(record, context);
    },
  };
}

/**
 * (c) shardflow on the path users run: the score processor, a summing sink that takes the batch through `apply` or
 * through a session, `definePipeline` and `createHandler` (which logs a summary line and publishes the batch's
 * metrics, as on Lambda; the runner sends stdout nowhere).
 */
export function shardflow(scenario: Scenario = Scenario.Kinesis, contract: SinkContract = SinkContract.Session, probe?: MemoryProbe): Subject {
  const sink = contract === SinkContract.Session ? new SessionSumSink(probe) : new SumSink(probe);
  const processor = probe === undefined ? scoreProcessor(scenario) : probed(scoreProcessor(scenario), probe);
  const handler = createHandler(definePipeline({ processors: [processor], sinks: [sink] }), { serviceName: 'bench' });
  return {
    name: `shardflow-${contract}`,
    async run(event, context) {
      sink.totals = new Map();
      const response = await handler(event, context);
      if (response.batchItemFailures.length > 0) throw new Error('shardflow reported failures in the benchmark batch.');
      return sink.totals;
    },
  };
}
