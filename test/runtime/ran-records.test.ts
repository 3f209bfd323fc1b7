import fc from 'fast-check';
import { RanRecords } from '../../src/runtime/ran-records';

describe('RanRecords', () => {
  it('gives back the position and user record of every record pushed, in any order of runs and gaps', () => {
    // Raw records in batch order, each plain (-1) or an aggregate of some user records, of which some ran.
    const aggregate = fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }).map((ran) => ({ userRecords: ran.length, ran }));
    const rawRecord = fc.oneof(fc.constant({ userRecords: -1, ran: [true] }), aggregate);
    fc.assert(
      fc.property(fc.array(fc.tuple(rawRecord, fc.boolean()), { maxLength: 60 }), (raws) => {
        const ran = new RanRecords();
        const expected: [number, number][] = [];
        raws.forEach(([raw, plainRan], position) => {
          if (raw.userRecords === -1) {
            if (plainRan) expected.push([position, -1]);
          } else {
            raw.ran.forEach((didRun, userRecord) => didRun && expected.push([position, userRecord]));
          }
        });
        expected.forEach(([position, userRecord], index) => expect(ran.push(position, userRecord)).toBe(index));
        expect(ran.length).toBe(expected.length);
        expect(expected.map((_, i) => [ran.position(i), ran.userRecord(i)])).toEqual(expected);
      }),
    );
  });

  it('keeps one run for consecutive records', () => {
    const ran = new RanRecords();
    for (let position = 0; position < 5; position++) ran.push(position, -1);
    for (let userRecord = 0; userRecord < 5; userRecord++) ran.push(5, userRecord);
    expect((ran as unknown as { starts: number[] }).starts).toEqual([0, 5]);
  });
});
