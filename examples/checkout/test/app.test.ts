/** The whole app on DynamoDB Local, through its real handler: shardflow/testing starts it and creates the app's tables. */
import { dynamodbEvent, dynamodbRecord, kinesisEvent, kinesisRecord, useDynamoDBLocal } from 'shardflow/testing';
import app from '../src/app';
import { CARTS, CHECKOUT_EVENTS } from '../src/tables';

const ddb = useDynamoDBLocal({ app });

describe('the checkout app', () => {
  it('totals paid orders exactly once, whatever the delivery, and keeps a bad order as a fault', async () => {
    const paid = (orderId: string, customer: string, total: unknown) =>
      kinesisRecord({ streamName: CHECKOUT_EVENTS, partitionKey: customer, json: { type: 'order.paid', orderId, customer, total } });
    const batch = kinesisEvent([paid('o1', 'ana', 10), paid('o2', 'bo', 4.5), paid('o3', 'ana', 'free'), paid('o4', 'ana', 2.25)]);

    await expect(ddb.invoke(batch)).resolves.toEqual({ batchItemFailures: [] });
    // Lambda delivers at least once: the same batch again, then a retry from its middle.
    await ddb.invoke(batch);
    await ddb.invoke(kinesisEvent(batch.Records.slice(2)));

    expect(await ddb.readTable('CustomerTotals')).toEqual([
      { customer: 'ana', paid: 12.25, orders: 2 },
      { customer: 'bo', paid: 4.5, orders: 1 },
    ]);
    const faults = await ddb.faults();
    expect(new Set(faults.map((fault) => fault.recordId))).toEqual(new Set([batch.Records[2].eventID]));
    expect(faults[0].raw).toEqual(batch.Records[2]);
  });

  it('counts carts per day from the Carts stream', async () => {
    const cart = (cartId: string, status: string) => ({ cartId, customer: 'ana', createdAt: '2026-12-01T10:00:00Z', status });
    await ddb.invoke(
      dynamodbEvent([
        dynamodbRecord({ eventName: 'INSERT', table: CARTS, keys: { cartId: 'c1' }, newImage: cart('c1', 'open') }),
        dynamodbRecord({ eventName: 'INSERT', table: CARTS, keys: { cartId: 'c2' }, newImage: cart('c2', 'open') }),
        dynamodbRecord({ eventName: 'MODIFY', table: CARTS, keys: { cartId: 'c1' }, oldImage: cart('c1', 'open'), newImage: cart('c1', 'checked_out') }),
      ]),
    );
    expect(await ddb.readTable('CartsPerDay')).toEqual([{ day: '2026-12-01', created: 2, checkedOut: 1 }]);
  });
});
