/**
 * `defineProcessor`: a processor that declares what it reads, with its types inferred from its schemas.
 */
import type { RecordSchema, SchemaRecordKind } from './record-schema';
import { compileRouter } from './router';
import type { Effect, SchemaProcessor } from './types';

/**
 * Defines a processor with a schema, checked here (name, selector and schema; `INVALID_OPTIONS` otherwise), and
 * returns it as given. TypeScript infers the value `process` gets from the schemas, the record's type from what
 * they read (a payload: `KinesisStreamRecord`; images or keys: `DynamoDBStreamRecord`), and, from the selector's
 * `kinds`, which images are always there. Effects are typed as `Effect`; a processor of effects of its own type
 * annotates instead: `const p: SchemaProcessor<{ payload: typeof Order }, MyEffect> = { ... }`.
 * @example
 * const Payment = z.object({ customer: z.string(), amount: z.number() });
 * export const paymentsPerCustomer = defineProcessor({
 *   name: 'payments-per-customer',
 *   select: { streams: ['payments'] },
 *   schema: { payload: Payment },
 *   process(record, { payload: payment }) {
 *     return [{ type: 'add', provenance: provenanceOf(record), table: 'CustomerTotals', key: { Customer: payment.customer }, add: { Paid: payment.amount } }];
 *   },
 * });
 */
export function defineProcessor<const S extends RecordSchema, const K extends SchemaRecordKind<S> = SchemaRecordKind<S>>(
  processor: SchemaProcessor<S, Effect, K>,
): SchemaProcessor<S, Effect, K>;
export function defineProcessor(processor: SchemaProcessor): SchemaProcessor {
  compileRouter([processor]);
  return processor;
}
