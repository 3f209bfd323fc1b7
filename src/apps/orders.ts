/** Seed 002 "Orders key logger": logs the keys of every Orders change (KEYS_ONLY stream, batch size 1, LATEST). */
import { createRecordLogger } from '../processors/logger';
import { RecordSource } from '../runtime/model';
import { defineApp, faultTable } from './shared';
import { ORDERS, ordersTable } from './tables';
import { AppName } from './types';

export const ordersApp = defineApp({
  name: AppName.Orders,
  tables: [ordersTable, faultTable],
  kinesisStreams: [],
  outputTables: [],
  eventSource: { batchSize: 1, startingPosition: 'LATEST' },
  processors: () => [
    createRecordLogger({ name: 'orders-key-logger', select: { sources: [RecordSource.DynamoDB], streams: [ORDERS] } }),
  ],
});
