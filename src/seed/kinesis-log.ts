/** Seed 001 "Kinesis record logger": logs every Lab-Stream record decoded (JSON, text or base64). */
import { RecordSource, createRecordLogger, defineApp } from '../index';
import { LAB_STREAM } from './tables';

export const kinesisLogApp = defineApp({
  name: 'kinesis-log',
  sources: { kinesisStreams: [LAB_STREAM] },
  eventSource: { batchSize: 100, startingPosition: 'TRIM_HORIZON' },
  processors: [createRecordLogger({ name: 'lab-stream-logger', select: { sources: [RecordSource.Kinesis], streams: [LAB_STREAM] } })],
});
