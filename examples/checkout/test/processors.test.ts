/** The processors alone: records in, effects out, no AWS. Records are made with shardflow/testing's factories. */
import { normalizeRecord, type StreamRecord } from 'shardflow';
import { dynamodbRecord, kinesisRecord } from 'shardflow/testing';
import { cartsPerDay, paidTotals } from '../src/processors';
import { CARTS, CHECKOUT_EVENTS } from '../src/tables';

/** The normalized record a raw Lambda record becomes, as the pipeline hands it to processors. */
function normalized(raw: unknown): StreamRecord {
  const result = normalizeRecord(raw, 0);
  if (!result.ok) throw result.error;
  return result.records[0];
}

const order = (json: unknown) => normalized(kinesisRecord({ streamName: CHECKOUT_EVENTS, partitionKey: 'ana', json }));

describe('paidTotals', () => {
  it("adds a paid order's total to its customer", () => {
    const effects = paidTotals.process(order({ type: 'order.paid', orderId: 'o1', customer: 'ana', total: 12.5 }), { remainingTimeMs: () => Infinity });
    expect(effects).toEqual([expect.objectContaining({ table: 'CustomerTotals', key: { customer: 'ana' }, add: { paid: 12.5, orders: 1 } })]);
  });

  it('leaves other checkout events alone', () => {
    expect(paidTotals.process(order({ type: 'cart.viewed', customer: 'ana' }), { remainingTimeMs: () => Infinity })).toEqual([]);
  });

  it('rejects a paid order without a customer or a total, naming the record', () => {
    const bad = order({ type: 'order.paid', orderId: 'o2', customer: 'ana', total: -3 });
    expect(() => paidTotals.process(bad, { remainingTimeMs: () => Infinity })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', message: expect.stringContaining(bad.recordId) }),
    );
  });
});

describe('cartsPerDay', () => {
  const cart = (status: string) => ({ cartId: 'c1', customer: 'ana', createdAt: '2026-11-30T23:59:00Z', status });

  it('counts a new cart on the day it was created', () => {
    const insert = normalized(dynamodbRecord({ eventName: 'INSERT', table: CARTS, keys: { cartId: 'c1' }, newImage: cart('open') }));
    expect(cartsPerDay.process(insert, { remainingTimeMs: () => Infinity })).toEqual([
      expect.objectContaining({ table: 'CartsPerDay', key: { day: '2026-11-30' }, add: { created: 1 } }),
    ]);
  });

  it('counts a checkout once: when the status changes to checked_out, not on later changes', () => {
    const checkout = dynamodbRecord({ eventName: 'MODIFY', table: CARTS, keys: { cartId: 'c1' }, oldImage: cart('open'), newImage: cart('checked_out') });
    const later = dynamodbRecord({ eventName: 'MODIFY', table: CARTS, keys: { cartId: 'c1' }, oldImage: cart('checked_out'), newImage: { ...cart('checked_out'), note: 'gift' } });
    expect(cartsPerDay.process(normalized(checkout), { remainingTimeMs: () => Infinity })).toEqual([
      expect.objectContaining({ key: { day: '2026-11-30' }, add: { checkedOut: 1 } }),
    ]);
    expect(cartsPerDay.process(normalized(later), { remainingTimeMs: () => Infinity })).toEqual([]);
  });
});
