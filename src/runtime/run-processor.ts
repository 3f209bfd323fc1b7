/**
 * Calling a processor on one record: a processor with a schema gets the value its schema reads, validated first.
 * The batch loop, the Powertools adapter and `runProcessor` share it.
 */
import type { StreamRecord } from './model';
import { RecordValidation, type RecordSchema } from './record-schema';
import { compileRouter, type Route, type Router } from './router';
import type { AnyProcessor, Effect, EffectBase, ProcessContext, Processor, SchemaProcessor } from './types';

/**
 * Calls the route's processor on `record`, validating what its schema reads through `validation` (which keeps
 * results for the record in hand).
 */
export function callProcessor<E extends EffectBase>(
  route: Route<AnyProcessor<E>>,
  validation: RecordValidation,
  record: StreamRecord,
  context: ProcessContext,
): readonly E[] | Promise<readonly E[]> {
  // The router compiles a schema for exactly the processors that declare one. The route's field is read rather
  // than the processor's: every route has it, so the hot path reads no property a processor object may lack.
  const schema = route.schema;
  if (schema === undefined) return (route.processor as Processor<E>).process(record, context);
  const processor = route.processor as SchemaProcessor<RecordSchema, E>;
  const value = validation.read(schema, record);
  if (value instanceof Promise) return value.then((settled) => processor.process(record, settled, context));
  return processor.process(record, value, context);
}

/** Runs the processor of a one-processor router on `record`, or gives undefined when its selector does not admit it. */
export function runSelected<E extends EffectBase>(
  router: Router<AnyProcessor<E>>,
  record: StreamRecord,
  context: ProcessContext,
): readonly E[] | Promise<readonly E[]> | undefined {
  const route = router.candidates(record)[0];
  if (route === undefined || (route.where !== undefined && !route.where(record))) return undefined;
  return callProcessor(route, new RecordValidation(), record, context);
}

const NO_DEADLINE: ProcessContext = { remainingTimeMs: () => Infinity };

/**
 * Runs one processor on one record as the batch loop does: a record its selector does not admit gives no effects;
 * one it admits is validated against its schema, if it has one, and a record that does not match throws the
 * `SchemaValidationError` the loop would capture (a promise that rejects with it, for an async schema). For tests,
 * and for loops of your own. The result is an array when the processor and its schemas are synchronous.
 * @param context - what the processor is told of the invocation's remaining time; by default, no deadline
 * (`remainingTimeMs()` is `Infinity`).
 * @example
 * const [record] = normalizeRecord(kinesisRecord({ streamName: 'payments', json: { customer: 'ana', amount: 5 } }), 0).records;
 * expect(await runProcessor(paymentsPerCustomer, record)).toEqual([expect.objectContaining({ add: { Paid: 5 } })]);
 */
export function runProcessor<E extends EffectBase = Effect>(
  processor: AnyProcessor<E>,
  record: StreamRecord,
  context: ProcessContext = NO_DEADLINE,
): readonly E[] | Promise<readonly E[]> {
  return runSelected(compileRouter([processor]), record, context) ?? [];
}
