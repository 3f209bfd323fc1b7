/**
 * The corpus of records that cannot be decoded (test/helpers/bad-input.ts). Each case checks the error code, that
 * the message names the record and the reason, and that the other records of the same batch still normalize.
 */
import { ShardflowError } from '../../src/runtime/errors';
import { normalizeRecord } from '../../src/runtime/normalize';
import { badInput, readStage } from '../helpers/bad-input';
import { dynamodbRecord, kinesisRecord } from '../helpers/factories';

describe('bad input', () => {
  it.each(Object.keys(badInput))('%s', (name) => {
    const bad = badInput[name]!;
    const raw = bad.raw();
    const batch: unknown[] = [
      kinesisRecord({ json: { n: 0 } }),
      raw,
      dynamodbRecord({ eventName: 'MODIFY', keys: { Id: 2 }, newImage: { Id: 2, n: 2 } }),
      kinesisRecord({ json: { n: 3 } }),
    ];
    const results = batch.map((record, position) => normalizeRecord(record, position));

    let error: unknown;
    const result = results[1]!;
    if (bad.stage === 'normalize') {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.raw).toBe(raw);
      expect(result.position).toBe(1);
      if (typeof raw.eventID === 'string') expect(result.provenance.eventID).toBe(raw.eventID);
      error = result.error;
    } else {
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      try {
        for (const record of result.records) readStage(record, bad.stage);
      } catch (caught) {
        error = caught;
      }
    }
    expect(error).toBeInstanceOf(ShardflowError);
    const shardflowError = error as ShardflowError;
    expect(shardflowError.code).toBe(bad.code);
    expect(shardflowError.retryable).toBe(false);
    expect(shardflowError.message).toContain(`Record ${bad.names?.(raw) ?? String(raw.eventID)} `);
    expect(shardflowError.message).toMatch(bad.reason);
    expect(shardflowError.message).toMatch(/\.$/);

    // The rest of the batch is unaffected.
    const others = [results[0]!, results[2]!, results[3]!];
    for (const other of others) expect(other.ok).toBe(true);
    const values = others.flatMap((other) =>
      other.ok
        ? other.records.map((record) => (record.source === 'aws:kinesis' ? record.payload.json() : record.newImage))
        : [],
    );
    expect(values).toEqual([{ n: 0 }, { Id: 2, n: 2 }, { n: 3 }]);
  });
});
