/** Seed 001 "Kinesis record logger": logs every Lab-Stream record decoded (JSON, text or base64). */
import { createRecordLogger } from '../processors/logger';
import { RecordSource } from '../runtime/model';
import { buildHandler, faultTable } from './shared';
import { LAB_STREAM } from './tables';
import { AppName, type AppDefinition } from './types';

export const kinesisLogApp: AppDefinition = {
  name: AppName.KinesisLog,
  description: `Logs every record of Kinesis stream ${LAB_STREAM}, decoded.`,
  tables: [faultTable],
  kinesisStreams: [LAB_STREAM],
  outputTables: [],
  eventSource: { batchSize: 100, startingPosition: 'TRIM_HORIZON' },
  createHandler: (environment) =>
    buildHandler({
      app: AppName.KinesisLog,
      environment,
      processors: [
        createRecordLogger({ name: 'lab-stream-logger', select: { sources: [RecordSource.Kinesis], streams: [LAB_STREAM] } }),
      ],
      outputTables: [],
    }),
};
