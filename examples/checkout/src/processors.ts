/**
 * The checkout app's processors: pure functions of one record to effects, so they are tested without AWS.
 * - `paidTotals`: every `order.paid` event on checkout-events adds its total to the customer's `paid` and 1 to
 *   `orders`; other event types are not its business.
 * - `cartsPerDay`: a new cart counts as created on the day of its `createdAt`; a cart whose status changes to
 *   `checked_out` counts as checked out on that day. It needs the old image to see the change.
 */
import { ValidationError, provenanceOf, type AddEffect, type Processor } from 'shardflow';
import { CARTS, CARTS_PER_DAY, CHECKOUT_EVENTS, CUSTOMER_TOTALS } from './tables';

interface PaidOrder {
  readonly type: 'order.paid';
  readonly orderId: string;
  readonly customer: string;
  readonly total: number;
}

function isPaidOrder(event: Record<string, unknown>): event is Record<string, unknown> & PaidOrder {
  return (
    typeof event.orderId === 'string' &&
    typeof event.customer === 'string' &&
    event.customer.length > 0 &&
    typeof event.total === 'number' &&
    Number.isFinite(event.total) &&
    event.total >= 0
  );
}

export const paidTotals: Processor<AddEffect> = {
  name: 'paid-totals',
  select: { sources: ['aws:kinesis'], streams: [CHECKOUT_EVENTS] },
  process(record) {
    if (record.source !== 'aws:kinesis') return [];
    const event = record.payload.json();
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new ValidationError(`Record ${record.recordId} is not a checkout event: its payload is not a JSON object.`);
    }
    const fields = event as Record<string, unknown>;
    if (fields.type !== 'order.paid') return [];
    if (!isPaidOrder(fields)) {
      throw new ValidationError(`Record ${record.recordId} is an order.paid event without an orderId, a customer and a total >= 0.`);
    }
    return [
      {
        type: 'add',
        provenance: provenanceOf(record),
        table: CUSTOMER_TOTALS,
        key: { customer: fields.customer },
        add: { paid: fields.total, orders: 1 },
      },
    ];
  },
};

/** The UTC day of an ISO 8601 timestamp, or undefined when it is not one. */
function dayOf(timestamp: unknown): string | undefined {
  if (typeof timestamp !== 'string') return undefined;
  const time = Date.parse(timestamp);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString().slice(0, 10);
}

export const cartsPerDay: Processor<AddEffect> = {
  name: 'carts-per-day',
  select: { sources: ['aws:dynamodb'], streams: [CARTS], kinds: ['insert', 'modify'] },
  process(record) {
    if (record.source !== 'aws:dynamodb') return [];
    const cart = record.newImage;
    const day = dayOf(cart?.createdAt);
    if (day === undefined) {
      throw new ValidationError(`Record ${record.recordId} changes cart ${String(record.keys.cartId)}, which has no ISO 8601 createdAt.`);
    }
    const count = (attribute: 'created' | 'checkedOut'): AddEffect => ({
      type: 'add',
      provenance: provenanceOf(record),
      table: CARTS_PER_DAY,
      key: { day },
      add: { [attribute]: 1 },
    });
    if (record.kind === 'insert') return [count('created')];
    const checkedOut = cart?.status === 'checked_out' && record.oldImage?.status !== 'checked_out';
    return checkedOut ? [count('checkedOut')] : [];
  },
};
