/**
 * The processors alone: records in, effects out, no AWS. Records are made with shardflow/testing's factories and run
 * with `runProcessor`, which selects and validates them as the pipeline does.
 */
import { normalizeRecord, runProcessor, type StreamRecord } from 'shardflow';
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
    const effects = runProcessor(paidTotals, order({ type: 'order.paid', orderId: 'o1', customer: 'ana', total: 12.5 }));
    expect(effects).toEqual([expect.objectContaining({ table: 'CustomerTotals', key: { customer: 'ana' }, add: { paid: 12.5, orders: 1 } })]);
  });

  it('leaves other checkout events alone', () => {
    expect(runProcessor(paidTotals, order({ type: 'cart.viewed', customer: 'ana' }))).toEqual([]);
  });

  it('rejects a paid order without a customer or a total, naming the record and the field', () => {
    const bad = order({ type: 'order.paid', orderId: 'o2', customer: 'ana', total: -3 });
    expect(() => runProcessor(paidTotals, bad)).toThrow(
      expect.objectContaining({ code: 'VALIDATION', message: expect.stringContaining(bad.recordId), issues: [expect.objectContaining({ path: ['payload', 'total'] })] }),
    );
  });

  it('rejects an event of a type it does not know, and a payload that is not an event at all', () => {
    expect(() => runProcessor(paidTotals, order({ type: 'order.refunded', orderId: 'o1' }))).toThrow(
      expect.objectContaining({ code: 'VALIDATION', issues: [expect.objectContaining({ path: ['payload', 'type'] })] }),
    );
    expect(() => runProcessor(paidTotals, order(['order.paid']))).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
  });
});

describe('cartsPerDay', () => {
  const cart = (status: string) => ({ cartId: 'c1', customer: 'ana', createdAt: '2026-11-30T23:59:00Z', status });

  it('counts a new cart on the day it was created', () => {
    const insert = normalized(dynamodbRecord({ eventName: 'INSERT', table: CARTS, keys: { cartId: 'c1' }, newImage: cart('open') }));
    expect(runProcessor(cartsPerDay, insert)).toEqual([expect.objectContaining({ table: 'CartsPerDay', key: { day: '2026-11-30' }, add: { created: 1 } })]);
  });

  it('counts a checkout once: when the status changes to checked_out, not on later changes', () => {
    const checkout = dynamodbRecord({ eventName: 'MODIFY', table: CARTS, keys: { cartId: 'c1' }, oldImage: cart('open'), newImage: cart('checked_out') });
    const later = dynamodbRecord({ eventName: 'MODIFY', table: CARTS, keys: { cartId: 'c1' }, oldImage: cart('checked_out'), newImage: { ...cart('checked_out'), note: 'gift' } });
    expect(runProcessor(cartsPerDay, normalized(checkout))).toEqual([expect.objectContaining({ key: { day: '2026-11-30' }, add: { checkedOut: 1 } })]);
    expect(runProcessor(cartsPerDay, normalized(later))).toEqual([]);
  });

  it('rejects a cart without an ISO 8601 createdAt, naming the attribute', () => {
    const { createdAt: _omitted, ...undated } = cart('open');
    const insert = normalized(dynamodbRecord({ eventName: 'INSERT', table: CARTS, keys: { cartId: 'c4' }, newImage: undated }));
    expect(() => runProcessor(cartsPerDay, insert)).toThrow(expect.objectContaining({ code: 'VALIDATION', issues: [expect.objectContaining({ path: ['newImage', 'createdAt'] })] }));
  });
});
