/** The checkout app's tables: the Carts table it reads the stream of, and the two tables it keeps. */
import type { TableDefinition } from 'shardflow';

export const CHECKOUT_EVENTS = 'checkout-events';
export const CARTS = 'Carts';
export const CUSTOMER_TOTALS = 'CustomerTotals';
export const CARTS_PER_DAY = 'CartsPerDay';

/** Shopping carts, key `cartId`; its stream carries both images, so a change can be compared with what it replaced. */
export const cartsTable: TableDefinition = {
  TableName: CARTS,
  KeySchema: [{ AttributeName: 'cartId', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'cartId', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST',
  StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
};

/** What each customer paid, and in how many orders: key `customer`, attributes `paid` and `orders`. */
export const customerTotalsTable: TableDefinition = {
  TableName: CUSTOMER_TOTALS,
  KeySchema: [{ AttributeName: 'customer', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'customer', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST',
};

/** Carts created and checked out per day (UTC): key `day` (YYYY-MM-DD), attributes `created` and `checkedOut`. */
export const cartsPerDayTable: TableDefinition = {
  TableName: CARTS_PER_DAY,
  KeySchema: [{ AttributeName: 'day', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'day', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST',
};
