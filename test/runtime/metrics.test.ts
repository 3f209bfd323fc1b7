import { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricName, METRICS_NAMESPACE, lastArrivalTime, publishBatchStats } from '../../src/runtime/metrics';
import type { BatchStats } from '../../src/runtime/batch-outcome';
import { dynamodbEvent, dynamodbRecord, kinesisEvent, kinesisRecord } from '../helpers/factories';
import { capturingOutput } from '../helpers/output';

const stats: BatchStats = {
  recordsIn: 10,
  records: 12,
  processed: 5,
  unrouted: 1,
  failed: 2,
  skipped: 1,
  deadlineSkipped: 2,
  faulted: 1,
  effects: 7,
  batchItemFailures: 4,
  durationMs: 12.5,
};

describe('metrics', () => {
  it('names every metric once', () => {
    const names = Object.values(MetricName);
    expect(new Set(names).size).toBe(names.length);
    expect(METRICS_NAMESPACE).toBe('shardflow');
  });

  it('publishes BatchStats as one EMF document', async () => {
    const { lines: documents } = await capturingOutput(() =>
      publishBatchStats(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'tags' }), stats, 1500),
    );
    expect(documents).toHaveLength(1);
    expect(documents[0]).toMatchObject({
      service: 'tags',
      [MetricName.RecordsIn]: 10,
      [MetricName.RecordsProcessed]: 5,
      [MetricName.RecordsUnrouted]: 1,
      [MetricName.RecordsFailed]: 2,
      [MetricName.RecordsSkipped]: 1,
      [MetricName.RecordsNotStarted]: 2,
      [MetricName.RecordsFaulted]: 1,
      [MetricName.Effects]: 7,
      [MetricName.BatchItemFailures]: 4,
      [MetricName.BatchDuration]: 12.5,
      [MetricName.IteratorAge]: 1500,
    });
  });

  it("reads the batch's last arrival time from Kinesis and DynamoDB events", () => {
    expect(lastArrivalTime(kinesisEvent([kinesisRecord({ arrivalSeconds: 1 }), kinesisRecord({ arrivalSeconds: 1_767_225_600.123 })]))).toBe(
      1_767_225_600_123,
    );
    expect(lastArrivalTime(dynamodbEvent([dynamodbRecord({ eventName: 'INSERT', keys: { id: 1 }, creationSeconds: 1_767_225_601 })]))).toBe(
      1_767_225_601_000,
    );
    expect(lastArrivalTime({ Records: [] })).toBeUndefined();
    expect(lastArrivalTime({ Records: [{}] } as never)).toBeUndefined();
  });
});
