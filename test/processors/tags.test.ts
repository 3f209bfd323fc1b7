import fc from 'fast-check';
import { createTagTotal } from '../../src/processors';
import { ErrorCode, ValidationError } from '../../src/runtime/errors';
import { dynamodbRecord, kinesisRecord, type DynamoDBItem } from '../helpers/factories';
import { adds, logs, normalizeDynamoDB, normalizeKinesis, run, selects, summary } from './records';
import { thrown } from '../helpers/errors';

type EventName = 'INSERT' | 'MODIFY' | 'REMOVE';
const change = (
  eventName: EventName,
  id: string,
  oldImage: DynamoDBItem | undefined,
  newImage: DynamoDBItem | undefined,
  viewType: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'KEYS_ONLY' = 'NEW_AND_OLD_IMAGES',
) =>
  normalizeDynamoDB(
    dynamodbRecord({
      eventName,
      table: 'PageViews',
      keys: { ID: id },
      ...(oldImage === undefined ? {} : { oldImage }),
      ...(newImage === undefined ? {} : { newImage }),
      viewType,
    }),
  );

/** The seed's names (the processor has no defaults for them). */
const SEED = { table: 'PageViews', keyAttribute: 'ID', counterId: 'COUNTER', countAttribute: 'Count', totalAttribute: 'TotalViews' } as const;

describe('tag total (seed 000 page view tags)', () => {
  const total = createTagTotal(SEED);
  const counter = (delta: number) => [['PageViews', { ID: 'COUNTER' }, { TotalViews: delta }]];

  it('adds Count on INSERT, new − old on MODIFY, subtracts on REMOVE', () => {
    const insert = change('INSERT', 'cats', undefined, { ID: 'cats', Count: 1 });
    expect(selects(total, insert)).toBe(true);
    const effects = run(total, insert);
    expect(summary(effects)).toEqual(counter(1));
    expect(effects[0]?.provenance).toMatchObject({ source: 'aws:dynamodb', eventID: insert.eventID, sequenceNumber: insert.sequenceNumber });
    expect(summary(run(total, change('MODIFY', 'cats', { ID: 'cats', Count: 1 }, { ID: 'cats', Count: 2 })))).toEqual(counter(1));
    expect(summary(run(total, change('MODIFY', 'cats', { ID: 'cats', Count: 7 }, { ID: 'cats', Count: 3 })))).toEqual(counter(-4));
    expect(summary(run(total, change('REMOVE', 'cats', { ID: 'cats', Count: 3 }, undefined)))).toEqual(counter(-3));
  });

  it('skips zero deltas and counts a missing Count as 0', () => {
    expect(run(total, change('MODIFY', 'cats', { ID: 'cats', Count: 2, Note: 'a' }, { ID: 'cats', Count: 2, Note: 'b' }))).toEqual([]);
    expect(run(total, change('INSERT', 'dogs', undefined, { ID: 'dogs' }))).toEqual([]);
    expect(summary(run(total, change('MODIFY', 'dogs', { ID: 'dogs' }, { ID: 'dogs', Count: 5 })))).toEqual(counter(5));
  });

  it("ignores changes to the COUNTER item itself, so the sink's writes never loop back", () => {
    for (const record of [
      change('INSERT', 'COUNTER', undefined, { ID: 'COUNTER', TotalViews: 1 }),
      change('MODIFY', 'COUNTER', { ID: 'COUNTER', TotalViews: 1 }, { ID: 'COUNTER', TotalViews: 2, Count: 9 }),
      change('REMOVE', 'COUNTER', { ID: 'COUNTER', TotalViews: 2 }, undefined),
    ]) {
      expect(run(total, record)).toEqual([]);
    }
  });

  it('faults MODIFY and REMOVE on a stream without old images, naming NEW_AND_OLD_IMAGES', () => {
    const record = change('MODIFY', 'cats', undefined, { ID: 'cats', Count: 2 }, 'NEW_IMAGE');
    const error = thrown(() => run(total, record));
    expect(error.code).toBe(ErrorCode.ImageNotInView);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(record.recordId);
    expect(error.message).toContain('NEW_AND_OLD_IMAGES');
    expect(thrown(() => run(total, change('INSERT', 'cats', undefined, undefined, 'KEYS_ONLY'))).code).toBe(ErrorCode.ImageNotInView);
  });

  it('faults a Count that is not an integer, and subtracts a counted one it replaces', () => {
    const bad = change('INSERT', 'cats', undefined, { ID: 'cats', Count: 'many' });
    const error = thrown(() => run(total, bad));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain(`Record ${bad.recordId}`);
    expect(error.message).toContain('Count is the string "many", not a number');

    const effects = run(total, change('MODIFY', 'cats', { ID: 'cats', Count: 4 }, { ID: 'cats', Count: 2.5 }));
    expect(summary(effects)).toEqual(counter(-4));
    const [warning] = logs(effects);
    expect(warning?.level).toBe('WARN');
    expect(warning?.message).toContain('Count is 2.5, not an integer');
  });

  it('selects only the PageViews table and rejects a Kinesis record routed to it by mistake', () => {
    const other = normalizeDynamoDB(dynamodbRecord({ eventName: 'INSERT', table: 'Orders', keys: { ID: 'x' } }));
    const kinesis = normalizeKinesis(kinesisRecord({ streamName: 'PageViews' }));
    expect(selects(total, other)).toBe(false);
    expect(selects(total, kinesis)).toBe(false);
    expect(thrown(() => run(total, kinesis))).toBeInstanceOf(ValidationError);
  });

  it('uses the configured table and counter id, and rejects unknown options', () => {
    const custom = createTagTotal({ ...SEED, table: 'Views', counterId: '#total' });
    const record = normalizeDynamoDB(dynamodbRecord({ eventName: 'INSERT', table: 'Views', keys: { ID: 'a' }, newImage: { ID: 'a', Count: 2 } }));
    expect(summary(run(custom, record))).toEqual([['Views', { ID: '#total' }, { TotalViews: 2 }]]);
    const renamed = createTagTotal({ table: 'Pages', keyAttribute: 'path', counterId: '*', countAttribute: 'hits', totalAttribute: 'allHits' });
    const page = normalizeDynamoDB(dynamodbRecord({ eventName: 'INSERT', table: 'Pages', keys: { path: '/a' }, newImage: { path: '/a', hits: 3 } }));
    expect(summary(run(renamed, page))).toEqual([['Pages', { path: '*' }, { allHits: 3 }]]);
    expect(() => createTagTotal({ ...SEED, counter: 'x' } as never)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
    expect(() => createTagTotal({ ...SEED, counterId: '' })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
    expect(() => createTagTotal({ table: 'Views' } as never)).toThrow('createTagTotal: option "keyAttribute" is required.');
  });

  it('adds the exact change of a Count beyond a double', () => {
    const record = change('MODIFY', 'cats', { ID: 'cats', Count: Number.MAX_SAFE_INTEGER }, { ID: 'cats', Count: -45 });
    expect(adds(run(total, record)).map((effect) => effect.add)).toEqual([{ TotalViews: -9007199254741036n }]);
  });

  it('keeps TotalViews equal to the sum of Count over the tag items, for any history', () => {
    const operation = fc.record({
      tag: fc.constantFrom('cats', 'dogs', 'COUNTER', 'fish'),
      count: fc.oneof(
        { weight: 9, arbitrary: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }) },
        // Counts beyond a double: the total stays exact.
        { weight: 2, arbitrary: fc.constantFrom<unknown>(Number.MAX_SAFE_INTEGER, 2n ** 64n, 10n ** 37n) },
        { weight: 1, arbitrary: fc.constant<unknown>('x') },
      ),
      remove: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const table = new Map<string, DynamoDBItem>();
        let totalViews = 0n;
        for (const op of operations) {
          const before = table.get(op.tag);
          let record;
          if (op.remove) {
            if (before === undefined) continue;
            table.delete(op.tag);
            record = change('REMOVE', op.tag, before, undefined);
          } else {
            const after: DynamoDBItem = op.count === undefined ? { ID: op.tag } : { ID: op.tag, Count: op.count };
            table.set(op.tag, after);
            record = before === undefined ? change('INSERT', op.tag, undefined, after) : change('MODIFY', op.tag, before, after);
          }
          try {
            for (const effect of adds(run(total, record))) totalViews += BigInt((effect.add.TotalViews ?? 0) as number | bigint);
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
          }
        }
        let expected = 0n;
        for (const [id, item] of table) {
          if (id !== 'COUNTER' && (Number.isSafeInteger(item.Count) || typeof item.Count === 'bigint')) expected += BigInt(item.Count as number | bigint);
        }
        expect(totalViews).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
