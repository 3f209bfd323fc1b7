import { ErrorCode } from '../../src/runtime/errors';
import { checkInteger, checkName, checkOneOf, resolveOptions } from '../../src/runtime/options';
import { DynamoDBFaultSink } from '../../src/sinks/dynamodb-faults';
import { createRecordLogger } from '../../src/processors/logger';
import { EventSourceMapping } from '../../src/local/event-source';

describe('options', () => {
  it('rejects the first unknown key, naming the component and the known keys', () => {
    expect(() => resolveOptions('Sink', { a: 1, typo: 2 }, { a: 0, b: 0 })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOptions, message: 'Sink: unknown option "typo" (known: a, b).' }),
    );
    expect(() => resolveOptions('Sink', null as never, { a: 0 })).toThrow('Sink: options must be an object, got null.');
    expect(() => resolveOptions('Sink', { a: undefined }, { a: 0 })).not.toThrow();
  });

  it('keeps the default of an option given as undefined, and never changes the defaults', () => {
    const defaults = { summary: true, margin: 1000, name: 'x' };
    expect(resolveOptions('C', { summary: undefined, margin: 5 }, defaults)).toEqual({ summary: true, margin: 5, name: 'x' });
    expect(resolveOptions('C', { summary: false }, defaults)).toEqual({ summary: false, margin: 1000, name: 'x' });
    expect(resolveOptions('C', undefined, defaults)).toEqual(defaults);
    expect(defaults).toEqual({ summary: true, margin: 1000, name: 'x' });
  });

  it('requires the required options, whether missing or undefined', () => {
    expect(() => resolveOptions<{ a: number }, { table?: string }>('C', {}, { a: 1 }, ['table'])).toThrow('C: option "table" is required.');
    expect(() => resolveOptions('C', { table: undefined }, { a: 1 }, ['table'])).toThrow('C: option "table" is required.');
    expect(() => resolveOptions('C', undefined, { a: 1 }, ['table' as never])).toThrow('C: option "table" is required.');
  });

  it('words every value check the same way', () => {
    expect(() => checkName('C', 'table', '')).toThrow('C: option "table" must be a non-empty string, got "".');
    expect(() => checkInteger('C', 'n', 1.5, 1, 10)).toThrow('C: option "n" must be an integer from 1 to 10, got 1.5.');
    expect(() => checkOneOf('C', 'level', 'LOUD', { Info: 'INFO' })).toThrow('C: option "level" must be one of "INFO", got "LOUD".');
  });

  it('is the one wording of processors, sinks and the local runner', () => {
    expect(() => createRecordLogger({ nmae: 'x' } as never)).toThrow(/^createRecordLogger: unknown option "nmae" \(known: /);
    expect(() => new DynamoDBFaultSink({ table: 'f' } as never)).toThrow('DynamoDBFaultSink: option "client" is required.');
    expect(() => new EventSourceMapping(async () => ({ batchItemFailures: [] }), { maxRetries: -1 })).toThrow(
      'EventSourceMapping: option "maxRetries" must be an integer from 0 to 10000, got -1.',
    );
  });
});
