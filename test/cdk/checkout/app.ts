/**
 * A user's app for the construct's tests: paid checkout events (Kinesis `checkout-events`) summed per customer, and
 * new or changed carts (table `Carts`, NEW_AND_OLD_IMAGES) counted per day, built on the public API only; its HTTP
 * route `GET /totals/{customer}` shows a customer's total.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { RecordSource, ValidationError, defineApp, provenanceOf, type AddEffect, type Processor, type TableDefinition } from '../../../src';

export const CHECKOUT_EVENTS = 'checkout-events';
export const CARTS = 'Carts';

const cartsTable: TableDefinition = {
  TableName: CARTS,
  KeySchema: [{ AttributeName: 'CartId', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'CartId', AttributeType: 'S' }],
  StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
};

const customerTotalsTable: TableDefinition = {
  TableName: 'CustomerTotals',
  KeySchema: [{ AttributeName: 'Customer', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'Customer', AttributeType: 'S' }],
};

const cartsPerDayTable: TableDefinition = {
  TableName: 'CartsPerDay',
  KeySchema: [{ AttributeName: 'Day', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'Day', AttributeType: 'S' }],
};

const paidTotals: Processor<AddEffect> = {
  name: 'paid-totals',
  select: { sources: [RecordSource.Kinesis], streams: [CHECKOUT_EVENTS] },
  process(record) {
    if (record.source !== RecordSource.Kinesis) return [];
    const event = record.payload.json() as { customer?: unknown; total?: unknown };
    if (typeof event.customer !== 'string' || typeof event.total !== 'number') {
      throw new ValidationError(`Record ${record.recordId} is not a paid checkout: it needs customer and total.`);
    }
    return [{ type: 'add', provenance: provenanceOf(record), table: customerTotalsTable.TableName as string, key: { Customer: event.customer }, add: { Paid: event.total } }];
  },
};

const cartsPerDay: Processor<AddEffect> = {
  name: 'carts-per-day',
  select: { sources: [RecordSource.DynamoDB], streams: [CARTS] },
  process(record) {
    const day = new Date(record.arrivalTime).toISOString().slice(0, 10);
    return [{ type: 'add', provenance: provenanceOf(record), table: cartsPerDayTable.TableName as string, key: { Day: day }, add: { Carts: 1 } }];
  },
};

export const checkoutApp = defineApp({
  name: 'checkout',
  sources: { kinesisStreams: [CHECKOUT_EVENTS], tables: [cartsTable] },
  outputs: [customerTotalsTable, cartsPerDayTable],
  eventSource: {
    batchSize: 50,
    // Only paid checkouts and new or changed carts reach the function.
    filters: { [CHECKOUT_EVENTS]: [{ data: { status: ['paid'] } }], [CARTS]: [{ eventName: ['INSERT', 'MODIFY'] }] },
  },
  processors: [paidTotals, cartsPerDay],
  http:
    ({ dynamodb }) =>
    async (event) => {
      const customer = decodeURIComponent(event.path.split('/').pop() ?? '');
      const { Item } = await dynamodb.send(new GetItemCommand({ TableName: customerTotalsTable.TableName, Key: { Customer: { S: customer } } }));
      return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ customer, paid: Number(Item?.Paid?.N ?? 0) }) };
    },
});
