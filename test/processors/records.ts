/** Raw factory records through the real normalizer, for processor tests. */
import { RecordSource, type DynamoDBStreamRecord, type KinesisStreamRecord, type StreamRecord } from '../../src/runtime/model';
import { compileRouter } from '../../src/runtime/router';
import type { AddEffect, Effect, LogEffect, ProcessContext, Processor } from '../../src/runtime/types';
import { normalizeAll } from '../helpers/normalize';

export { normalizeAll };

const context: ProcessContext = { remainingTimeMs: () => Number.POSITIVE_INFINITY };

export function normalizeDynamoDB(raw: unknown): DynamoDBStreamRecord {
  const [record] = normalizeAll(raw);
  if (record === undefined || record.source !== RecordSource.DynamoDB) throw new Error('Expected one DynamoDB record.');
  return record;
}

export function normalizeKinesis(raw: unknown): KinesisStreamRecord {
  const [record] = normalizeAll(raw);
  if (record === undefined || record.source !== RecordSource.Kinesis) throw new Error('Expected one Kinesis record.');
  return record;
}

/** Runs a processor on one record, synchronously (the processors here never return promises). */
export function run(processor: Processor<Effect>, record: StreamRecord): readonly Effect[] {
  const effects = processor.process(record, context);
  if (effects instanceof Promise) throw new Error('Expected a synchronous processor.');
  return effects;
}

/** Whether the processor's selector admits the record, as the runtime's router decides it. */
export function selects(processor: Processor<Effect>, record: StreamRecord): boolean {
  return compileRouter([processor])
    .candidates(record)
    .some((route) => route.where === undefined || route.where(record));
}

export const adds = (effects: readonly Effect[]): AddEffect[] => effects.filter((effect): effect is AddEffect => effect.type === 'add');
export const logs = (effects: readonly Effect[]): LogEffect[] => effects.filter((effect): effect is LogEffect => effect.type === 'log');
/** The add effects as [table, key, add] triples, for compact expectations. */
export const summary = (effects: readonly Effect[]) => adds(effects).map((effect) => [effect.table, effect.key, effect.add]);
