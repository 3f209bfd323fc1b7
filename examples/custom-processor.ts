/**
 * The README's example, kept compiling and tested (test/seed/custom-processor.test.ts): a processor of Kinesis
 * order events into per-customer totals, as an app with its Lambda handler.
 */
import { ValidationError, defineApp, lambdaHandler, provenanceOf, type AddEffect, type Processor } from '../src';

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

// The app: what it reads, what it writes, how it is fed. Its effects on CustomerTotals are applied exactly once.
export const app = defineApp({
  name: 'order-totals',
  sources: { kinesisStreams: ['orders'] },
  outputs: [
    {
      TableName: 'CustomerTotals',
      KeySchema: [{ AttributeName: 'Customer', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'Customer', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    },
  ],
  processors: [ordersPerCustomer],
  pipeline: { deadlineMarginMs: 2000 },
});

// The Lambda entry. Map it with FunctionResponseTypes: ["ReportBatchItemFailures"] (shardflow/cdk's ShardflowApp does).
export const handler = lambdaHandler(app);
