/**
 * The checkout app: what it consumes, what it writes, and how. `shardflow replay` and `shardflow dev` load this
 * module (`--app ./src/app.ts`), the Lambda entry (lambda.ts) builds its handler from it.
 */
import { createRecordLogger, defineApp } from 'shardflow';
import { cartsPerDay, paidTotals } from './processors';
import { CARTS, CHECKOUT_EVENTS, cartsPerDayTable, cartsTable, customerTotalsTable } from './tables';

export default defineApp({
  name: 'checkout',
  sources: { kinesisStreams: [CHECKOUT_EVENTS], tables: [cartsTable] },
  outputs: [customerTotalsTable, cartsPerDayTable],
  eventSource: { batchSize: 100, startingPosition: 'TRIM_HORIZON', retryAttempts: 5 },
  processors: [
    paidTotals,
    cartsPerDay,
    // Every cart change in the logs, without the customer's email.
    createRecordLogger({ name: 'cart-logger', select: { streams: [CARTS] }, redact: ['email'] }),
  ],
});
