/**
 * Routing: which processors want a record. Selectors are compiled once; per record the router answers from a
 * cache keyed by (source, stream, kind), because one invocation holds records of one shard of one stream and
 * the same few combinations repeat thousands of times.
 */
import { ErrorCode, ShardflowError } from './errors';
import { RecordKind, RecordSource, type StreamRecord } from './model';
import { compileRecordSchema, kindsOf, type CompiledRecordSchema } from './record-schema';
import type { AnyProcessor, EffectBase, Selector } from './types';

/** A processor the static part of its selector admits; `where` (if any) is still to be asked per record. */
export interface Route<P> {
  readonly processor: P;
  readonly where: ((record: StreamRecord) => boolean) | undefined;
  /** The processor's schema, checked; undefined for a processor without one. */
  readonly schema: CompiledRecordSchema | undefined;
}

export interface Router<P> {
  /**
   * Processors whose `sources`, `streams` and `kinds` admit the record, in registration order. The caller asks
   * each route's `where` itself, so an exception from a predicate is attributed to that processor.
   * An empty array means no processor can want the record.
   */
  candidates(record: StreamRecord): readonly Route<P>[];
}

const SOURCES: ReadonlySet<string> = new Set(Object.values(RecordSource));
const KINDS: ReadonlySet<string> = new Set(Object.values(RecordKind));

interface CompiledSelector {
  readonly sources: ReadonlySet<string> | undefined;
  readonly streams: ReadonlySet<string> | undefined;
  readonly kinds: ReadonlySet<string> | undefined;
}

function invalid(processor: string, reason: string): ShardflowError {
  return new ShardflowError(ErrorCode.InvalidOptions, `Processor "${processor}" has an invalid selector: ${reason}.`);
}

function compileField(
  processor: string,
  field: string,
  values: readonly string[] | undefined,
  allowed: ReadonlySet<string> | undefined,
): ReadonlySet<string> | undefined {
  if (values === undefined) return undefined;
  if (!Array.isArray(values)) throw invalid(processor, `${field} must be an array`);
  // An empty list would match nothing: almost certainly a mistake, and a silent one.
  if (values.length === 0) throw invalid(processor, `${field} is empty, so it would match no record (omit it to match all)`);
  for (const value of values) {
    if (typeof value !== 'string' || value.length === 0) throw invalid(processor, `${field} holds a value that is not a non-empty string`);
    if (allowed !== undefined && !allowed.has(value)) {
      throw invalid(processor, `${field} holds "${value}", which is not one of ${[...allowed].join(', ')}`);
    }
  }
  return new Set(values);
}

function compileSelector(processor: string, select: Selector, schema: CompiledRecordSchema | undefined): CompiledSelector {
  if (select === null || typeof select !== 'object') throw invalid(processor, 'select must be an object');
  const known = new Set(['sources', 'streams', 'kinds', 'where']);
  for (const key of Object.keys(select)) {
    if (!known.has(key)) throw invalid(processor, `unknown field "${key}" (known: ${[...known].join(', ')})`);
  }
  if (select.where !== undefined && typeof select.where !== 'function') throw invalid(processor, 'where must be a function');
  const compiled: CompiledSelector = {
    sources: compileField(processor, 'sources', select.sources, SOURCES),
    streams: compileField(processor, 'streams', select.streams, undefined),
    kinds: compileField(processor, 'kinds', select.kinds, KINDS),
  };
  if (schema === undefined) return compiled;
  // The schema fixes the source, so a selector that names another source, or kinds of another, is a mistake.
  const reads = schema.source === RecordSource.Kinesis ? 'its schema reads a Kinesis payload' : 'its schema reads DynamoDB images and keys';
  for (const source of compiled.sources ?? []) {
    if (source !== schema.source) throw invalid(processor, `sources holds "${source}", but ${reads}`);
  }
  const possible: readonly string[] = kindsOf(schema.source);
  for (const kind of compiled.kinds ?? []) {
    if (!possible.includes(kind)) throw invalid(processor, `kinds holds "${kind}", but ${reads}`);
  }
  return { ...compiled, sources: new Set([schema.source]) };
}

function streamOf(record: StreamRecord): string {
  return record.source === RecordSource.Kinesis ? record.streamName : record.tableName;
}

/**
 * Compiles the processors' selectors and schemas once. Throws `INVALID_OPTIONS` for a selector that is malformed or
 * can never match, for a schema that is malformed or contradicts its selector, and for two processors with the same
 * name (faults and logs name processors).
 */
export function compileRouter<P extends AnyProcessor<EffectBase>>(processors: readonly P[]): Router<P> {
  const seen = new Set<string>();
  const compiled = processors.map((processor) => {
    if (typeof processor.name !== 'string' || processor.name.length === 0) {
      throw new ShardflowError(ErrorCode.InvalidOptions, 'Every processor needs a non-empty name.');
    }
    if (seen.has(processor.name)) {
      throw new ShardflowError(ErrorCode.InvalidOptions, `Two processors are named "${processor.name}"; names must be unique.`);
    }
    seen.add(processor.name);
    if (typeof processor.process !== 'function') throw invalid(processor.name, 'process must be a function');
    const schema = processor.schema === undefined ? undefined : compileRecordSchema(processor.name, processor.schema);
    return { processor, schema, selector: compileSelector(processor.name, processor.select ?? {}, schema) };
  });

  const cache = new Map<string, readonly Route<P>[]>();
  // One-entry memo in front of the map: consecutive records almost always share source, stream and kind.
  let lastSource: string | undefined;
  let lastStream: string | undefined;
  let lastKind: string | undefined;
  let lastRoutes: readonly Route<P>[] = [];

  const resolve = (source: string, stream: string, kind: string): readonly Route<P>[] => {
    const key = `${source}\u0000${stream}\u0000${kind}`;
    let routes = cache.get(key);
    if (routes === undefined) {
      routes = compiled
        .filter(
          ({ selector }) =>
            (selector.sources === undefined || selector.sources.has(source)) &&
            (selector.streams === undefined || selector.streams.has(stream)) &&
            (selector.kinds === undefined || selector.kinds.has(kind)),
        )
        .map(({ processor, schema }) => ({ processor, where: processor.select?.where, schema }));
      cache.set(key, routes);
    }
    return routes;
  };

  return {
    candidates(record) {
      const source = record.source;
      const stream = streamOf(record);
      const kind = record.kind;
      if (source !== lastSource || stream !== lastStream || kind !== lastKind) {
        lastRoutes = resolve(source, stream, kind);
        lastSource = source;
        lastStream = stream;
        lastKind = kind;
      }
      return lastRoutes;
    },
  };
}
