import fc from 'fast-check';
import { ErrorCode, ShardflowError } from '../../src/runtime/errors';
import { RecordKind, RecordSource, type StreamRecord } from '../../src/runtime/model';
import { compileRouter } from '../../src/runtime/router';
import type { Effect, Processor, Selector } from '../../src/runtime/types';
import { dynamodbRecord, kinesisRecord } from '../helpers/factories';
import { normalizeAll } from '../helpers/normalize';

function processor(name: string, select: Selector): Processor<Effect> {
  return { name, select, process: () => [] };
}

const normalized = (raw: unknown): StreamRecord => normalizeAll(raw)[0]!;

const kinesis = (streamName: string, value = 0) => normalized(kinesisRecord({ streamName, json: { value } }));
const dynamo = (table: string, eventName: 'INSERT' | 'MODIFY' | 'REMOVE') =>
  normalized(dynamodbRecord({ table, eventName, keys: { id: 1 } }));

/** What the pipeline does with candidates: ask each `where`. */
function chosen(router: ReturnType<typeof compileRouter<Processor<Effect>>>, record: StreamRecord): string[] {
  return router
    .candidates(record)
    .filter((route) => route.where === undefined || route.where(record))
    .map((route) => route.processor.name);
}

describe('compileRouter', () => {
  it('matches on sources, streams (stream or table names), kinds and where; an empty selector matches all', () => {
    const router = compileRouter([
      processor('everything', {}),
      processor('kinesis', { sources: [RecordSource.Kinesis] }),
      processor('lab', { streams: ['Lab-Stream'] }),
      processor('scores-inserts', { sources: [RecordSource.DynamoDB], streams: ['GameScoreRecords'], kinds: [RecordKind.Insert] }),
      processor('big', { where: (r) => r.source === RecordSource.Kinesis && (r.payload.json() as { value: number }).value > 10 }),
    ]);
    expect(chosen(router, kinesis('Lab-Stream', 1))).toEqual(['everything', 'kinesis', 'lab']);
    expect(chosen(router, kinesis('Other', 11))).toEqual(['everything', 'kinesis', 'big']);
    expect(chosen(router, dynamo('GameScoreRecords', 'INSERT'))).toEqual(['everything', 'scores-inserts']);
    expect(chosen(router, dynamo('GameScoreRecords', 'MODIFY'))).toEqual(['everything']);
    expect(chosen(router, dynamo('Orders', 'INSERT'))).toEqual(['everything']);
  });

  it('answers nothing for a record no selector admits', () => {
    const router = compileRouter([processor('orders', { streams: ['Orders'] })]);
    expect(router.candidates(kinesis('Lab-Stream'))).toEqual([]);
  });

  it('leaves where to the caller, so a throwing predicate is attributed to its processor', () => {
    const where = () => {
      throw new Error('predicate bug');
    };
    const router = compileRouter([processor('p', { where })]);
    const [route] = router.candidates(kinesis('Lab-Stream'));
    expect(route!.processor.name).toBe('p');
    expect(route!.where).toBe(where);
  });

  it.each<[string, Selector, RegExp]>([
    ['empty sources', { sources: [] }, /sources is empty, so it would match no record/],
    ['unknown source', { sources: ['aws:sqs' as never] }, /sources holds "aws:sqs", which is not one of aws:kinesis, aws:dynamodb/],
    ['unknown kind', { kinds: ['update' as never] }, /kinds holds "update"/],
    ['empty stream name', { streams: [''] }, /streams holds a value that is not a non-empty string/],
    ['where not a function', { where: 'yes' as never }, /where must be a function/],
    ['unknown field', { tables: ['x'] } as never, /unknown field "tables" \(known: sources, streams, kinds, where\)/],
  ])('rejects a selector with %s', (_name, select, message) => {
    expect(() => compileRouter([processor('p', select)])).toThrow(message);
    try {
      compileRouter([processor('p', select)]);
    } catch (error) {
      expect(error).toBeInstanceOf(ShardflowError);
      expect((error as ShardflowError).code).toBe(ErrorCode.InvalidOptions);
      expect((error as ShardflowError).message).toMatch(/^Processor "p" has an invalid selector: /);
    }
  });

  it('rejects duplicate and missing processor names', () => {
    expect(() => compileRouter([processor('p', {}), processor('p', {})])).toThrow(/Two processors are named "p"/);
    expect(() => compileRouter([processor('', {})])).toThrow(/non-empty name/);
  });

  it('routes like a naive filter over the selectors, for any selectors and any order of records', () => {
    const streams = ['S1', 'S2', 'T1', 'T2'];
    const records = [
      ...['S1', 'S2'].map((s) => kinesis(s)),
      ...['T1', 'T2'].flatMap((t) => (['INSERT', 'MODIFY', 'REMOVE'] as const).map((e) => dynamo(t, e))),
    ];
    const subset = <T>(values: readonly T[]) => fc.option(fc.subarray([...values], { minLength: 1 }), { nil: undefined });
    const selectorArb = fc.record(
      {
        sources: subset(Object.values(RecordSource)),
        streams: subset(streams),
        kinds: subset(Object.values(RecordKind)),
        where: fc.option(fc.constantFrom('even-position', 'dynamo-only'), { nil: undefined }),
      },
      { requiredKeys: [] },
    );
    const predicates = {
      'even-position': (r: StreamRecord) => records.indexOf(r) % 2 === 0,
      'dynamo-only': (r: StreamRecord) => r.source === RecordSource.DynamoDB,
    };
    fc.assert(
      fc.property(
        fc.array(selectorArb, { maxLength: 5 }),
        fc.array(fc.nat({ max: records.length - 1 }), { maxLength: 40 }),
        (selectors, order) => {
          const processors = selectors.map((s, i) => {
            const select: Selector = {
              ...(s.sources === undefined ? {} : { sources: s.sources }),
              ...(s.streams === undefined ? {} : { streams: s.streams }),
              ...(s.kinds === undefined ? {} : { kinds: s.kinds }),
              ...(s.where === undefined ? {} : { where: predicates[s.where] }),
            };
            return processor(`p${i}`, select);
          });
          const router = compileRouter(processors);
          for (const index of order) {
            const record = records[index]!;
            const stream = record.source === RecordSource.Kinesis ? record.streamName : record.tableName;
            const expected = processors
              .filter(({ select: s }) =>
                (s.sources === undefined || s.sources.includes(record.source)) &&
                (s.streams === undefined || s.streams.includes(stream)) &&
                (s.kinds === undefined || s.kinds.includes(record.kind)) &&
                (s.where === undefined || s.where(record)),
              )
              .map((p) => p.name);
            expect(chosen(router, record)).toEqual(expected);
          }
        },
      ),
    );
  });
});
