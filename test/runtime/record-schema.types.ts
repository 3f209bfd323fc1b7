/**
 * Type-level tests of processors with schemas: compiled by `npx tsc -p tsconfig.json --noEmit` (the first step of
 * `npm test`), never run. Each `@ts-expect-error` fails the type check if the error it expects goes away, and each
 * `expectType` fails it if an inferred type changes.
 */
import * as v from 'valibot';
import { z } from 'zod';
import {
  defineApp,
  defineProcessor,
  provenanceOf,
  type AddEffect,
  type DynamoDBStreamRecord,
  type KinesisStreamRecord,
  type LogEffect,
  type Processor,
  type RecordValue,
  type SchemaProcessor,
} from '../../src';

/** `expectType<T>()(value)` compiles only when `value` has exactly type `T`. */
const expectType =
  <T>() =>
  <U>(value: U, ..._exact: Exact<T, U> extends true ? [] : [never]): void =>
    void value;
type Exact<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;

const Order = z.object({ customer: z.string(), total: z.number() });
const Cart = v.object({ createdAt: v.string(), status: v.picklist(['open', 'checked_out']) });
const CartKey = v.object({ cartId: v.string() });

// A payload schema: Kinesis records, the payload typed from zod, `where` on Kinesis records too.
export const orders = defineProcessor({
  name: 'orders',
  select: { streams: ['orders'], where: (record) => record.streamName !== 'test' },
  schema: { payload: Order },
  process(record, { payload: order }) {
    expectType<KinesisStreamRecord>()(record);
    expectType<{ customer: string; total: number }>()(order);
    // @ts-expect-error: the schema has no field `customerId`.
    void order.customerId;
    return [{ type: 'add', provenance: provenanceOf(record), table: 'Totals', key: { customer: order.customer }, add: { total: order.total } }];
  },
});

// Image and key schemas from valibot: DynamoDB records; with `kinds` leaving out REMOVE, the new image is always there.
export const carts = defineProcessor({
  name: 'carts',
  select: { streams: ['Carts'], kinds: ['insert', 'modify'] },
  schema: { newImage: Cart, oldImage: Cart, keys: CartKey },
  process(record, { newImage, oldImage, keys }) {
    expectType<'insert' | 'modify'>()(record.kind);
    expectType<DynamoDBStreamRecord['tableName']>()(record.tableName);
    expectType<'open' | 'checked_out'>()(newImage.status);
    expectType<{ createdAt: string; status: 'open' | 'checked_out' } | undefined>()(oldImage);
    // @ts-expect-error: an INSERT has no old image, so it may be undefined.
    void oldImage.status;
    expectType<string>()(keys.cartId);
    return [];
  },
});

// Without `kinds`, a REMOVE may come: the new image may be undefined too.
export const anyChange = defineProcessor({
  name: 'any-change',
  select: {},
  schema: { newImage: Cart },
  process(_record, value) {
    expectType<RecordValue<{ newImage: typeof Cart }>>()(value);
    // @ts-expect-error: a REMOVE has no new image.
    void value.newImage.status;
    // @ts-expect-error: the schema reads no old image.
    void value.oldImage;
    return [];
  },
});

// A payload and images in one schema are refused, as is a selector of the other source or impossible kinds.
// @ts-expect-error: a schema reads a Kinesis payload or DynamoDB images, not both.
defineProcessor({ name: 'both', select: {}, schema: { payload: Order, newImage: Cart }, process: () => [] });
// @ts-expect-error: a payload schema reads Kinesis records only.
defineProcessor({ name: 'wrong-source', select: { sources: ['aws:dynamodb'] }, schema: { payload: Order }, process: () => [] });
// @ts-expect-error: a change is never a kinesis-record.
defineProcessor({ name: 'wrong-kind', select: { kinds: ['kinesis-record'] }, schema: { keys: CartKey }, process: () => [] });
// @ts-expect-error: an effect must be one of the effect types.
defineProcessor({ name: 'bad-effect', select: {}, schema: { payload: Order }, process: (record) => [{ type: 'delete', provenance: provenanceOf(record) }] });

// Effects of a narrower type: annotate the processor instead of calling defineProcessor.
export const logsOnly: SchemaProcessor<{ payload: typeof Order }, LogEffect> = {
  name: 'logs-only',
  select: {},
  schema: { payload: Order },
  process: (record, { payload }) => [{ type: 'log', provenance: provenanceOf(record), level: 'INFO', message: payload.customer, fields: {} }],
};

// Plain processors are unchanged, and an app takes both kinds.
export const plain: Processor<AddEffect> = { name: 'plain', select: {}, process: () => [] };
export const app = defineApp({ name: 'mixed', sources: { kinesisStreams: ['orders'] }, processors: [orders, carts, anyChange, logsOnly, plain] });
