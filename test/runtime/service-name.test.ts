import { Logger } from '@aws-lambda-powertools/logger';
import { RetryableError, createHandler, definePipeline, type Processor } from '../../src';
import { kinesisEvent, kinesisRecord } from '../helpers/factories';
import { capturingOutput } from '../helpers/output';

/** Fails every record for retry, so the pipeline logs a line of its own for each. */
const failing: Processor = {
  name: 'failing',
  select: {},
  process(record) {
    throw new RetryableError(`Record ${record.recordId} cannot be processed yet.`);
  },
};

describe('a plain definePipeline + createHandler', () => {
  it('logs and publishes metrics under the handler\'s one service name', async () => {
    const handler = createHandler(definePipeline({ processors: [failing], sinks: [] }), { serviceName: 'orders' });
    const { lines } = await capturingOutput(() => handler(kinesisEvent([kinesisRecord()]), {} as never));
    const pipelineLine = lines.find((line) => line.message === 'Record reported for retry');
    expect(pipelineLine?.service).toBe('orders');
    expect(new Set(lines.map((line) => line.service))).toEqual(new Set(['orders']));
  });

  it('leaves a pipeline that has its own logger with it', async () => {
    const own = new Logger({ serviceName: 'pipeline-own' });
    const handler = createHandler(definePipeline({ processors: [failing], sinks: [], options: { logger: own } }), { serviceName: 'orders' });
    const { lines } = await capturingOutput(() => handler(kinesisEvent([kinesisRecord()]), {} as never));
    expect(lines.find((line) => line.message === 'Record reported for retry')?.service).toBe('pipeline-own');
  });
});
