/** Seed 001 "Kinesis record logger": logs every Lab-Stream record decoded (JSON, text or base64). */
import { createRecordLogger } from '../processors/logger';
import { RecordSource } from '../runtime/model';
import { defineApp, faultTable } from './shared';
import { LAB_STREAM } from './tables';
import { AppName } from './types';

export const kinesisLogApp = defineApp({
  name: AppName.KinesisLog,
  tables: [faultTable],
  kinesisStreams: [LAB_STREAM],
  outputTables: [],
  eventSource: { batchSize: 100, startingPosition: 'TRIM_HORIZON' },
  processors: () => [
    createRecordLogger({ name: 'lab-stream-logger', select: { sources: [RecordSource.Kinesis], streams: [LAB_STREAM] } }),
  ],
});
