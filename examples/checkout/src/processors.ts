/**
 * The checkout app's processors: pure functions of one record to effects, so they are tested without AWS. Each
 * declares what it reads as a zod schema; shardflow validates every record a processor selects before it runs
 * (a record that does not match is captured as a fault, with its data and each issue), and the value it passes
 * is typed from the schema: no casts, no hand-written checks.
 * - `paidTotals`: every `order.paid` event on checkout-events adds its total to the customer's `paid` and 1 to
 *   `orders`; `cart.viewed` events are not its business, and an event of an unknown type is a fault.
 * - `cartsPerDay`: a new cart counts as created on the day of its `createdAt`; a cart whose status changes to
 *   `checked_out` counts as checked out on that day. It needs the old image to see the change.
 */
import { defineProcessor, provenanceOf, type AddEffect } from 'shardflow';
import { z } from 'zod';
import { CARTS, CARTS_PER_DAY, CHECKOUT_EVENTS, CUSTOMER_TOTALS } from './tables';

/**
 * The events on checkout-events, told apart by `type`. An event of a type not listed here is captured as a fault,
 * like a paid order without a customer: the app does not guess at what it does not know.
 */
export const CheckoutEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('order.paid'), orderId: z.string(), customer: z.string().min(1), total: z.number().nonnegative() }),
  z.object({ type: z.literal('cart.viewed') }),
]);

export const paidTotals = defineProcessor({
  name: 'paid-totals',
  select: { streams: [CHECKOUT_EVENTS] },
  schema: { payload: CheckoutEvent },
  process(record, { payload: event }) {
    // Only paid orders count; narrowing on `type` gives the order's fields their types.
    if (event.type !== 'order.paid') return [];
    return [
      {
        type: 'add',
        provenance: provenanceOf(record),
        table: CUSTOMER_TOTALS,
        key: { customer: event.customer },
        add: { paid: event.total, orders: 1 },
      },
    ];
  },
});

/** A cart, as the Carts table holds it (other attributes are not read). */
export const Cart = z.object({
  createdAt: z.iso.datetime({ offset: true }),
  status: z.string(),
});

/** The UTC day of an ISO 8601 timestamp. */
function dayOf(timestamp: string): string {
  return new Date(timestamp).toISOString().slice(0, 10);
}

export const cartsPerDay = defineProcessor({
  name: 'carts-per-day',
  // Without REMOVE in kinds, every record has a new image: `cart` is never undefined.
  select: { streams: [CARTS], kinds: ['insert', 'modify'] },
  schema: { newImage: Cart, oldImage: Cart },
  process(record, { newImage: cart, oldImage: before }) {
    const count = (attribute: 'created' | 'checkedOut'): AddEffect => ({
      type: 'add',
      provenance: provenanceOf(record),
      table: CARTS_PER_DAY,
      key: { day: dayOf(cart.createdAt) },
      add: { [attribute]: 1 },
    });
    if (record.kind === 'insert') return [count('created')];
    const checkedOut = cart.status === 'checked_out' && before?.status !== 'checked_out';
    return checkedOut ? [count('checkedOut')] : [];
  },
});
