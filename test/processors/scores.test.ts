import fc from 'fast-check';
import { createScoreAggregator, TtlDeletePolicy } from '../../src/processors';
import { ErrorCode, ValidationError } from '../../src/runtime/errors';
import type { Amount, Effect } from '../../src/runtime/types';
import { dynamodbRecord, kinesisRecord, rawDynamodbRecord, type DynamoDBItem } from '../helpers/factories';
import { adds, logs, normalizeDynamoDB, normalizeKinesis, run, selects, summary } from './records';
import { thrown } from '../helpers/errors';

/** The seed's names (the processor has no defaults for them). */
const SEED = { sourceTable: 'GameScoreRecords', targetTable: 'GameScoresByUser', userAttribute: 'Username', scoreAttribute: 'Score' } as const;

/** An integer amount (what the aggregator emits) as a bigint, for exact sums in tests. */
const exact = (amount: Amount | undefined): bigint => (amount === undefined ? 0n : BigInt(amount as number | bigint));

const jane = (score: unknown, recordId = 2): DynamoDBItem => ({ RecordID: recordId, Username: 'Jane Doe', Score: score, Nickname: 'JaneD' });

describe('score aggregator: the seed (GameScoreRecords -> GameScoresByUser)', () => {
  const aggregator = createScoreAggregator(SEED);

  it("adds the lab's Jane Doe INSERT from a NEW_IMAGE stream", () => {
    const raw = dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 2 }, newImage: jane(100), viewType: 'NEW_IMAGE' });
    const record = normalizeDynamoDB(raw);
    expect(selects(aggregator, record)).toBe(true);
    const effects = run(aggregator, record);
    expect(summary(effects)).toEqual([['GameScoresByUser', { Username: 'Jane Doe' }, { Score: 100 }]]);
    expect(effects[0]?.provenance).toMatchObject({
      source: 'aws:dynamodb',
      eventID: raw.eventID,
      streamArn: raw.eventSourceARN,
      shardId: undefined,
      partitionKey: record.partitionKey,
      sequenceNumber: raw.dynamodb?.SequenceNumber,
      subSequenceNumber: undefined,
    });
  });

  it('faults MODIFY and REMOVE under NEW_IMAGE, saying the stream needs NEW_AND_OLD_IMAGES', () => {
    const modify = normalizeDynamoDB(
      dynamodbRecord({ eventName: 'MODIFY', keys: { RecordID: 2 }, newImage: jane(150), viewType: 'NEW_IMAGE' }),
    );
    const remove = normalizeDynamoDB(dynamodbRecord({ eventName: 'REMOVE', keys: { RecordID: 2 }, viewType: 'NEW_IMAGE' }));
    for (const record of [modify, remove]) {
      const error = thrown(() => run(aggregator, record));
      expect(error.code).toBe(ErrorCode.ImageNotInView);
      expect(error.retryable).toBe(false);
      expect(error.recordId).toBe(record.recordId);
      expect(error.message).toContain(record.recordId);
      expect(error.message).toContain('NEW_AND_OLD_IMAGES');
      expect(error.message).toContain('view type NEW_IMAGE');
    }
  });

  it('faults every change of a KEYS_ONLY stream (no Score to read)', () => {
    const record = normalizeDynamoDB(dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 3 }, viewType: 'KEYS_ONLY' }));
    expect(thrown(() => run(aggregator, record)).code).toBe(ErrorCode.ImageNotInView);
  });
});

describe('score aggregator under NEW_AND_OLD_IMAGES', () => {
  const aggregator = createScoreAggregator(SEED);
  const change = (eventName: 'INSERT' | 'MODIFY' | 'REMOVE', oldImage: DynamoDBItem | undefined, newImage: DynamoDBItem | undefined, ttlDelete = false) =>
    normalizeDynamoDB(
      dynamodbRecord({
        eventName,
        keys: { RecordID: 2 },
        ...(oldImage === undefined ? {} : { oldImage }),
        ...(newImage === undefined ? {} : { newImage }),
        ttlDelete,
      }),
    );

  it('adds the difference on MODIFY and nothing when the Score did not change', () => {
    expect(summary(run(aggregator, change('MODIFY', jane(100), jane(150))))).toEqual([
      ['GameScoresByUser', { Username: 'Jane Doe' }, { Score: 50 }],
    ]);
    expect(summary(run(aggregator, change('MODIFY', jane(100), jane(40))))).toEqual([
      ['GameScoresByUser', { Username: 'Jane Doe' }, { Score: -60 }],
    ]);
    expect(run(aggregator, change('MODIFY', jane(100), { ...jane(100), Nickname: 'J' }))).toEqual([]);
  });

  it('moves the Score when the Username changes', () => {
    const effects = run(aggregator, change('MODIFY', jane(100), { ...jane(120), Username: 'John Roe' }));
    expect(summary(effects)).toEqual([
      ['GameScoresByUser', { Username: 'Jane Doe' }, { Score: -100 }],
      ['GameScoresByUser', { Username: 'John Roe' }, { Score: 120 }],
    ]);
  });

  it('subtracts on REMOVE, TTL deletes included unless configured to keep them', () => {
    expect(summary(run(aggregator, change('REMOVE', jane(100), undefined)))).toEqual([
      ['GameScoresByUser', { Username: 'Jane Doe' }, { Score: -100 }],
    ]);
    const ttl = change('REMOVE', jane(100), undefined, true);
    expect(ttl.isTtlDelete).toBe(true);
    expect(summary(run(aggregator, ttl))).toEqual([['GameScoresByUser', { Username: 'Jane Doe' }, { Score: -100 }]]);
    expect(run(createScoreAggregator({ ...SEED, ttlDeletes: TtlDeletePolicy.Keep }), ttl)).toEqual([]);
    // Only TTL deletes are kept: a user's delete still subtracts.
    expect(summary(run(createScoreAggregator({ ...SEED, ttlDeletes: 'keep' }), change('REMOVE', jane(100), undefined)))).toHaveLength(1);
  });

  it('creates the total on an INSERT of Score 0, as the seed did', () => {
    expect(summary(run(aggregator, change('INSERT', undefined, jane(0))))).toEqual([
      ['GameScoresByUser', { Username: 'Jane Doe' }, { Score: 0 }],
    ]);
  });

  it('uses the configured tables', () => {
    const custom = createScoreAggregator({ ...SEED, sourceTable: 'Scores', targetTable: 'Totals' });
    const record = normalizeDynamoDB(dynamodbRecord({ eventName: 'INSERT', table: 'Scores', keys: { RecordID: 1 }, newImage: jane(5) }));
    expect(selects(custom, record)).toBe(true);
    expect(selects(aggregator, record)).toBe(false);
    expect(summary(run(custom, record))).toEqual([['Totals', { Username: 'Jane Doe' }, { Score: 5 }]]);
  });
});

describe('score aggregator: scores that cannot be summed are faults, not crashes', () => {
  const aggregator = createScoreAggregator(SEED);
  const insert = (newImage: DynamoDBItem) => normalizeDynamoDB(dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 9 }, newImage }));

  it.each([
    ['a string Score', { ...jane('100') }, 'Score is the string "100", not a number'],
    ['a decimal Score', { ...jane(1.5) }, 'Score is 1.5, not an integer'],
    ['a missing Score', { RecordID: 9, Username: 'Jane Doe' }, 'Score is missing'],
    ['a boolean Score', { ...jane(true) }, 'Score is true, not a number'],
    ['a missing Username', { RecordID: 9, Score: 1 }, 'Username is missing'],
    ['a numeric Username', { RecordID: 9, Username: 7, Score: 1 }, 'Username is 7, not a string'],
    ['an empty Username', { RecordID: 9, Username: '', Score: 1 }, 'Username is empty'],
  ])('rejects %s with a ValidationError naming the record and the reason', (_name, image, reason) => {
    const record = insert(image);
    const error = thrown(() => run(aggregator, record));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.code).toBe(ErrorCode.Validation);
    expect(error.retryable).toBe(false);
    expect(error.recordId).toBe(record.recordId);
    expect(error.message).toContain(`Record ${record.recordId}`);
    expect(error.message).toContain('GameScoresByUser');
    expect(error.message).toContain(reason);
  });

  it('rejects a decimal Score with more digits than a double holds', () => {
    const raw = rawDynamodbRecord({
      eventName: 'INSERT',
      keys: { RecordID: { N: '9' } },
      newImage: { RecordID: { N: '9' }, Username: { S: 'Jane Doe' }, Score: { N: '1.00000000000000000001' } },
    });
    expect(thrown(() => run(aggregator, normalizeDynamoDB(raw))).message).toContain('Score is 1.00000000000000000001');
  });

  it('adds Scores beyond a double exactly, and the exact change between them', () => {
    const insert = normalizeDynamoDB(dynamodbRecord({ eventName: 'INSERT', keys: { RecordID: 9 }, newImage: jane(2n ** 60n) }));
    expect(summary(run(aggregator, insert))).toEqual([['GameScoresByUser', { Username: 'Jane Doe' }, { Score: 2n ** 60n }]]);
    // new − old leaves the safe range although both Scores are in it.
    const modify = normalizeDynamoDB(
      dynamodbRecord({ eventName: 'MODIFY', keys: { RecordID: 9 }, oldImage: jane(Number.MAX_SAFE_INTEGER), newImage: jane(-45) }),
    );
    expect(summary(run(aggregator, modify))).toEqual([['GameScoresByUser', { Username: 'Jane Doe' }, { Score: -9007199254741036n }]]);
  });

  it('counts an invalid old image as 0, so a fix-up adds the corrected Score once', () => {
    const fix = normalizeDynamoDB(dynamodbRecord({ eventName: 'MODIFY', keys: { RecordID: 9 }, oldImage: jane('abc'), newImage: jane(70) }));
    expect(summary(run(aggregator, fix))).toEqual([['GameScoresByUser', { Username: 'Jane Doe' }, { Score: 70 }]]);
    const removeInvalid = normalizeDynamoDB(dynamodbRecord({ eventName: 'REMOVE', keys: { RecordID: 9 }, oldImage: jane('abc') }));
    expect(run(aggregator, removeInvalid)).toEqual([]);
    const stillInvalid = normalizeDynamoDB(dynamodbRecord({ eventName: 'MODIFY', keys: { RecordID: 9 }, oldImage: jane('abc'), newImage: jane('def') }));
    expect(thrown(() => run(aggregator, stillInvalid))).toBeInstanceOf(ValidationError);
  });

  it('subtracts a counted Score when a MODIFY makes the record invalid, and warns', () => {
    const record = normalizeDynamoDB(dynamodbRecord({ eventName: 'MODIFY', keys: { RecordID: 9 }, oldImage: jane(30), newImage: jane('lots') }));
    const effects = run(aggregator, record);
    expect(summary(effects)).toEqual([['GameScoresByUser', { Username: 'Jane Doe' }, { Score: -30 }]]);
    const [warning] = logs(effects);
    expect(warning?.level).toBe('WARN');
    expect(warning?.message).toContain(record.recordId);
    expect(warning?.message).toContain('Score is the string "lots"');
  });
});

describe('score aggregator: Kinesis score records', () => {
  const aggregator = createScoreAggregator({ ...SEED, kinesisStreams: ['GameScoreEvents'] });
  const onStream = (options: Parameters<typeof kinesisRecord>[0]) =>
    normalizeKinesis(kinesisRecord({ streamName: 'GameScoreEvents', ...options }));

  it('adds the Score of a JSON record carrying Username and Score', () => {
    const record = onStream({ json: { Username: 'Jane Doe', Score: 25, Level: 3 } });
    expect(selects(aggregator, record)).toBe(true);
    const effects = run(aggregator, record);
    expect(summary(effects)).toEqual([['GameScoresByUser', { Username: 'Jane Doe' }, { Score: 25 }]]);
    expect(effects[0]?.provenance).toMatchObject({ source: 'aws:kinesis', shardId: 'shardId-000000000000', eventID: record.eventID });
  });

  it('selects only the configured streams (not Lab-Stream, not by default)', () => {
    const lab = normalizeKinesis(kinesisRecord({ json: { Username: 'x', Score: 1 } }));
    expect(selects(aggregator, lab)).toBe(false);
    expect(selects(createScoreAggregator(SEED), onStream({ json: { Username: 'x', Score: 1 } }))).toBe(false);
  });

  it('does not take a table for a Kinesis stream of the same name, or the reverse', () => {
    const table = normalizeDynamoDB(dynamodbRecord({ eventName: 'INSERT', table: 'GameScoreEvents', keys: { RecordID: 2 }, newImage: jane(1) }));
    const stream = normalizeKinesis(kinesisRecord({ streamName: 'GameScoreRecords', json: { Username: 'x', Score: 1 } }));
    expect(selects(aggregator, table)).toBe(false);
    expect(selects(aggregator, stream)).toBe(false);
  });

  it('refuses a JSON Score a double cannot hold instead of rounding it', () => {
    for (const [score, readsAs] of [['2.9999999999999999', '3'], ['9007199254740991.4', '9007199254740991'], ['9007199254740993', '9007199254740992']]) {
      const record = onStream({ data: `{"Username":"Jane Doe","Score":${score}}` });
      const error = thrown(() => run(aggregator, record));
      expect(error).toMatchObject({ code: ErrorCode.InvalidNumber, retryable: false, recordId: record.recordId });
      expect(error.message).toContain(`has the number ${score}, which a JavaScript number cannot hold exactly (it would read as ${readsAs})`);
    }
    // Exact through a double, so accepted:
    expect(summary(run(aggregator, onStream({ data: '{"Username":"Jane Doe","Score":1e3}' })))).toEqual([['GameScoresByUser', { Username: 'Jane Doe' }, { Score: 1000 }]]);
  });

  it('faults records that are not score records', () => {
    const notJson = onStream({ data: 'Username=Jane' });
    expect(thrown(() => run(aggregator, notJson)).code).toBe(ErrorCode.InvalidJson);
    for (const [json, reason] of [
      [[1, 2], 'its JSON payload is [1,2], not an object with Username and Score'],
      [{ Username: 'Jane Doe', Score: 'ten' }, 'in the JSON payload, Score is the string "ten", not a number'],
      [{ Username: 'Jane Doe' }, 'in the JSON payload, Score is missing'],
      [{ Score: 3 }, 'in the JSON payload, Username is missing'],
    ] as const) {
      const record = onStream({ json });
      const error = thrown(() => run(aggregator, record));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe(`Record ${record.recordId} from Kinesis stream GameScoreEvents cannot be added to GameScoresByUser: ${reason}.`);
    }
  });
});

describe('score aggregator: hostile payloads', () => {
  const aggregator = createScoreAggregator({ ...SEED, kinesisStreams: ['GameScoreEvents'] });

  it.each([
    ['a payload nested 10,000 levels deep', `${'['.repeat(10_000)}${']'.repeat(10_000)}`, /its JSON payload is \[\[\[.*…, not an object/],
    ['a Score nested 10,000 levels deep', `{"Username":"Jane Doe","Score":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`, /Score is \{"a":\{"a":.*…, not a number/],
  ])('rejects %s with a ValidationError that shows the start of it', (_name, data, reason) => {
    const record = normalizeKinesis(kinesisRecord({ streamName: 'GameScoreEvents', data }));
    const error = thrown(() => run(aggregator, record));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(reason);
  });
});

describe('score aggregator options', () => {
  it('rejects unknown options and bad values when constructed', () => {
    expect(() => createScoreAggregator({ table: 'x' } as never)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOptions, message: expect.stringContaining('"table"') }),
    );
    expect(() => createScoreAggregator({ ...SEED, ttlDeletes: 'drop' } as never)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
    expect(() => createScoreAggregator({ ...SEED, sourceTable: '' })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
    expect(() => createScoreAggregator({ ...SEED, kinesisStreams: [''] })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
    expect(() => createScoreAggregator({ ...SEED, userAttribute: undefined } as never)).toThrow(
      'createScoreAggregator: option "userAttribute" is required.',
    );
    const { sourceTable: _omitted, ...withoutSource } = SEED;
    expect(() => createScoreAggregator(withoutSource)).toThrow(/reads no records/);
  });

  it('reads and writes the attributes it is given', () => {
    const custom = createScoreAggregator({ sourceTable: 'Plays', targetTable: 'Players', userAttribute: 'player', scoreAttribute: 'points' });
    const record = normalizeDynamoDB(
      dynamodbRecord({ eventName: 'INSERT', table: 'Plays', keys: { RecordID: 1 }, newImage: { RecordID: 1, player: 'ann', points: 7 } }),
    );
    expect(summary(run(custom, record))).toEqual([['Players', { player: 'ann' }, { points: 7 }]]);
  });
});

/**
 * The invariant: for any history of writes to GameScoreRecords, the per-user sums of the emitted deltas equal the
 * per-user sums of Score over the records that exist at the end and are valid. Histories include Username
 * changes, invalid Scores (faults and fix-ups) and TTL deletes.
 */
describe('score aggregator: property', () => {
  const users = ['Jane Doe', 'John Roe', 'Ann'];
  const scoreArb = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
    // Scores beyond a double, and the safe edge: deltas between them are exact too.
    { weight: 2, arbitrary: fc.bigInt({ min: -(10n ** 37n), max: 10n ** 37n }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>('12', 1.5, null) },
  );
  const operation = fc.record({
    recordId: fc.integer({ min: 1, max: 5 }),
    username: fc.constantFrom(...users),
    score: scoreArb,
    remove: fc.boolean(),
    ttl: fc.boolean(),
  });

  const valid = (item: DynamoDBItem): item is DynamoDBItem & { Username: string; Score: number | bigint } =>
    typeof item.Username === 'string' && (Number.isSafeInteger(item.Score) || typeof item.Score === 'bigint');

  it('emits deltas that sum to the final per-user totals over valid records', () => {
    const aggregator = createScoreAggregator(SEED);
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const table = new Map<number, DynamoDBItem>();
        const emitted = new Map<string, bigint>();
        for (const op of operations) {
          const before = table.get(op.recordId);
          const keys = { RecordID: op.recordId };
          let raw;
          if (op.remove) {
            if (before === undefined) continue;
            table.delete(op.recordId);
            raw = dynamodbRecord({ eventName: 'REMOVE', keys, oldImage: before, ttlDelete: op.ttl });
          } else {
            const after = { RecordID: op.recordId, Username: op.username, Score: op.score };
            table.set(op.recordId, after);
            raw =
              before === undefined
                ? dynamodbRecord({ eventName: 'INSERT', keys, newImage: after })
                : dynamodbRecord({ eventName: 'MODIFY', keys, oldImage: before, newImage: after });
          }
          let effects: readonly Effect[];
          try {
            effects = run(aggregator, normalizeDynamoDB(raw));
          } catch (error) {
            // A fault: the record is captured and changes nothing.
            expect(error).toBeInstanceOf(ValidationError);
            continue;
          }
          for (const effect of adds(effects)) {
            const user = String(effect.key.Username);
            emitted.set(user, (emitted.get(user) ?? 0n) + exact(effect.add.Score));
          }
        }
        const expected = new Map<string, bigint>();
        for (const item of table.values()) {
          if (valid(item)) expected.set(item.Username, (expected.get(item.Username) ?? 0n) + BigInt(item.Score));
        }
        for (const user of users) expect([user, emitted.get(user) ?? 0n]).toEqual([user, expected.get(user) ?? 0n]);
      }),
      { numRuns: 300 },
    );
  });
});
