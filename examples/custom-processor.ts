/**
 * The README's example, kept compiling and tested (test/seed/custom-processor.test.ts): a processor of Kinesis
 * order events into per-customer totals, as an app with its Lambda handler.
 */
import { z } from 'zod';
import { defineApp, defineProcessor, lambdaHandler, provenanceOf } from '../src';

// What an order event holds. Any Standard Schema library works (zod, valibot, arktype); none is a dependency.
const Order = z.object({ customer: z.string(), total: z.number() });

// Pure: a record in, effects out. The pipeline validates the payload first, and `order` is typed from the schema.
// A record that does not match is captured as a fault with its data and each issue (`payload.total: Invalid
// input: ...`), as is anything else the processor throws (the INVALID_JSON of a payload that is not JSON, a
// TypeError): it would fail again on every delivery. Only a RetryableError reports the record for retry.
export const ordersPerCustomer = defineProcessor({
  name: 'orders-per-customer',
  select: { streams: ['orders'] },
  schema: { payload: Order },
  process(record, { payload: order }) {
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
});

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
