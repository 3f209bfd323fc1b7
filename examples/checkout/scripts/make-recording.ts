/**
 * Writes recordings/checkout.jsonl, a recording as `shardflow record` would capture it plus the re-deliveries
 * Lambda makes, and recordings/checkout.expected.json, the tables the app must end with. The expected tables are
 * computed here from the scenario (distinct valid orders and carts), not by running the app, so the replay is
 * checked against an independent answer. Run it with `npm run recording`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dynamodbEvent, dynamodbRecord, kinesisEvent, kinesisRecord } from 'shardflow/testing';
import { CARTS, CHECKOUT_EVENTS } from '../src/tables';

interface Order {
  readonly orderId: string;
  readonly customer: string;
  readonly total: unknown;
  readonly type?: string;
}

const event = (order: Order) =>
  kinesisRecord({ streamName: CHECKOUT_EVENTS, partitionKey: order.customer, json: { type: order.type ?? 'order.paid', ...order } });

// Orders on checkout-events, in two batches.
const ordersA: Order[] = [
  { orderId: 'o1', customer: 'ana', total: 10 },
  { orderId: 'o2', customer: 'bo', total: 24.5 },
  { orderId: 'v1', customer: 'ana', total: 0, type: 'cart.viewed' },
  { orderId: 'o4', customer: 'ana', total: 5.25 },
  { orderId: 'o5', customer: 'cy', total: -3 }, // invalid: captured as a fault
];
const ordersB: Order[] = [
  { orderId: 'o6', customer: 'cy', total: 99.99 },
  { orderId: 'o7', customer: 'bo', total: 0.5 },
  { orderId: 'o8', customer: 'ana', total: 1 },
];
const batchA = ordersA.map(event);
const batchB = ordersB.map(event);
const late = event({ orderId: 'o9', customer: 'dee', total: 7 });

// Carts and their changes on the Carts stream.
const cart = (cartId: string, createdAt: string | undefined, status: string) => ({
  cartId,
  customer: 'ana',
  email: 'ana@example.com',
  status,
  ...(createdAt !== undefined && { createdAt }),
});
const cartChanges = [
  dynamodbRecord({ eventName: 'INSERT', table: CARTS, keys: { cartId: 'c1' }, newImage: cart('c1', '2026-11-30T21:00:00Z', 'open') }),
  dynamodbRecord({ eventName: 'INSERT', table: CARTS, keys: { cartId: 'c2' }, newImage: cart('c2', '2026-12-01T08:15:00Z', 'open') }),
  dynamodbRecord({
    eventName: 'MODIFY',
    table: CARTS,
    keys: { cartId: 'c1' },
    oldImage: cart('c1', '2026-11-30T21:00:00Z', 'open'),
    newImage: cart('c1', '2026-11-30T21:00:00Z', 'checked_out'),
  }),
  dynamodbRecord({ eventName: 'INSERT', table: CARTS, keys: { cartId: 'c3' }, newImage: cart('c3', '2026-12-01T09:00:00Z', 'open') }),
  dynamodbRecord({
    eventName: 'MODIFY',
    table: CARTS,
    keys: { cartId: 'c3' },
    oldImage: cart('c3', '2026-12-01T09:00:00Z', 'open'),
    newImage: cart('c3', '2026-12-01T09:00:00Z', 'checked_out'),
  }),
  dynamodbRecord({ eventName: 'INSERT', table: CARTS, keys: { cartId: 'c4' }, newImage: cart('c4', undefined, 'open') }), // no createdAt: a fault
];

const deliveries = [
  kinesisEvent(batchA),
  kinesisEvent(batchA), // the same batch delivered twice
  kinesisEvent(batchB),
  kinesisEvent([...batchB.slice(1), late]), // a retry from the middle of batch B, with a new record behind it
  dynamodbEvent(cartChanges),
  dynamodbEvent(cartChanges.slice(2)), // a retry of the carts batch from its third record
];

// The answer, from the scenario: every distinct valid paid order once, every cart once.
const paid = [...ordersA, ...ordersB, { orderId: 'o9', customer: 'dee', total: 7 }].filter(
  (order) => (order.type ?? 'order.paid') === 'order.paid' && typeof order.total === 'number' && order.total >= 0,
);
const customers = new Map<string, { customer: string; paid: number; orders: number }>();
for (const order of paid) {
  const total = customers.get(order.customer) ?? { customer: order.customer, paid: 0, orders: 0 };
  // Cents, so the expected sums are exact too.
  customers.set(order.customer, { ...total, paid: Math.round(total.paid * 100 + (order.total as number) * 100) / 100, orders: total.orders + 1 });
}
const expected = {
  tables: {
    CustomerTotals: [...customers.values()].sort((a, b) => a.customer.localeCompare(b.customer)),
    CartsPerDay: [
      { day: '2026-11-30', created: 1, checkedOut: 1 },
      { day: '2026-12-01', created: 2, checkedOut: 1 },
    ],
  },
  /** Records captured as faults: order o5 and cart c4. */
  faults: 2,
};

const folder = join(__dirname, '..', 'recordings');
writeFileSync(join(folder, 'checkout.jsonl'), deliveries.map((delivery) => `${JSON.stringify(delivery)}\n`).join(''));
writeFileSync(join(folder, 'checkout.expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
