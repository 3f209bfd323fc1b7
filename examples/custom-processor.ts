/**
 * The README's example, kept compiling and tested (test/apps/custom-processor.test.ts): a processor of Kinesis
 * order events into per-customer totals, registered as a Lambda handler.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBFaultSink,
  DynamoDBSink,
  ValidationError,
  createHandler,
  definePipeline,
  provenanceOf,
  type AddEffect,
  type Processor,
  type StreamHandler,
} from '../src';

// Pure: a record in, effects out. So whatever it throws would be thrown again on every delivery: the record is
// captured as a fault with its data (a ValidationError, the INVALID_JSON that payload.json() throws, a TypeError
// alike). Only a RetryableError reports the record for retry.
export const ordersPerCustomer: Processor<AddEffect> = {
  name: 'orders-per-customer',
  select: { sources: ['aws:kinesis'], streams: ['orders'] },
  process(record) {
    if (record.source !== 'aws:kinesis') return [];
    const order = record.payload.json() as { customer?: unknown; total?: unknown };
    if (typeof order.customer !== 'string' || typeof order.total !== 'number') {
      throw new ValidationError(`Record ${record.recordId} is not an order: it needs customer and total.`);
    }
    return [
      {
        type: 'add',
        provenance: provenanceOf(record),
        table: 'CustomerTotals',
        key: { Customer: order.customer },
        add: { Orders: 1, Total: order.total },
      },
    ];
  },
};

export function createOrdersHandler(client: DynamoDBClient): StreamHandler {
  const pipeline = definePipeline({
    processors: [ordersPerCustomer],
    sinks: [new DynamoDBSink({ client, markerTable: 'ShardflowMarkers' })],
    faultSink: new DynamoDBFaultSink({ client, table: 'ShardflowFaults' }),
    options: { deadlineMarginMs: 2000 },
  });
  // Map it with FunctionResponseTypes: ["ReportBatchItemFailures"] (infra/stack.ts does).
  return createHandler(pipeline, { serviceName: 'orders' });
}
