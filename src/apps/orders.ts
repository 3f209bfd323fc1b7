/** Seed 002 "Orders key logger": logs the keys of every Orders change (KEYS_ONLY stream, batch size 1, LATEST). */
import { createRecordLogger } from '../processors/logger';
import { RecordSource } from '../runtime/model';
import { buildHandler, faultTable } from './shared';
import { ORDERS, ordersTable } from './tables';
import { AppName, type AppDefinition } from './types';

export const ordersApp: AppDefinition = {
  name: AppName.Orders,
  description: `Logs the keys (Id, Amount) of every change to ${ORDERS}.`,
  tables: [ordersTable, faultTable],
  kinesisStreams: [],
  outputTables: [],
  eventSource: { batchSize: 1, startingPosition: 'LATEST' },
  createHandler: (environment) =>
    buildHandler({
      app: AppName.Orders,
      environment,
      processors: [
        createRecordLogger({ name: 'orders-key-logger', select: { sources: [RecordSource.DynamoDB], streams: [ORDERS] } }),
      ],
      outputTables: [],
    }),
};
