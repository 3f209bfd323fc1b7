/** Seed 002 "Orders key logger": logs the keys of every Orders change (KEYS_ONLY stream, batch size 1, LATEST). */
import { RecordSource, createRecordLogger, defineApp } from '../index';
import { ORDERS, ordersTable } from './tables';

export const ordersApp = defineApp({
  name: 'orders',
  sources: { tables: [ordersTable] },
  eventSource: { batchSize: 1, startingPosition: 'LATEST' },
  processors: [createRecordLogger({ name: 'orders-key-logger', select: { sources: [RecordSource.DynamoDB], streams: [ORDERS] } })],
});
