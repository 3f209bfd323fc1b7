/** The local emulation of Lambda's event filtering: the pattern rules, and a replay of an app that filters. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { defineApp } from '../../src/app/definition';
import { matchesFilter } from '../../src/local/event-filter';
import { localClientConfig } from '../../src/local/clients';
import { replay } from '../../src/local/replay';
import { provenanceOf, type AddEffect, type Processor } from '../../src/index';
import { dynamodbEvent, dynamodbRecord, kinesisEvent, kinesisRecord, useDynamoDBLocal } from '../../src/testing';

const order = (json: unknown) => kinesisRecord({ streamName: 'orders', json });

describe('filter patterns', () => {
  it.each([
    ['a literal', { data: { type: ['paid'] } }, { type: 'paid' }, true],
    ['another literal', { data: { type: ['paid'] } }, { type: 'refunded' }, false],
    ['one of several literals', { data: { type: ['paid', 'refunded'] } }, { type: 'refunded' }, true],
    ['a number, compared as a number', { data: { n: [5] } }, { n: 5.0 }, true],
    ['null', { data: { note: [null] } }, { note: null }, true],
    ['null against a missing field', { data: { note: [null] } }, {}, false],
    ['a nested object', { data: { customer: { tier: ['gold'] } } }, { customer: { tier: 'gold' } }, true],
    ['every key (AND)', { data: { type: ['paid'], total: [{ numeric: ['>', 100] }] } }, { type: 'paid', total: 50 }, false],
    ['a prefix', { data: { sku: [{ prefix: 'AB-' }] } }, { sku: 'AB-12' }, true],
    ['a suffix', { data: { file: [{ suffix: '.png' }] } }, { file: 'cat.jpg' }, false],
    ['equals-ignore-case', { data: { status: [{ 'equals-ignore-case': 'PAID' }] } }, { status: 'paid' }, true],
    ['anything-but a value', { data: { status: [{ 'anything-but': 'test' }] } }, { status: 'live' }, true],
    ['anything-but a list', { data: { status: [{ 'anything-but': ['test', 'dev'] }] } }, { status: 'dev' }, false],
    ['anything-but a prefix', { data: { sku: [{ 'anything-but': { prefix: 'TMP' } }] } }, { sku: 'TMP-1' }, false],
    ['a numeric range', { data: { total: [{ numeric: ['>', 0, '<=', 150.5] }] } }, { total: 150.5 }, true],
    ['a numeric range, outside', { data: { total: [{ numeric: ['>', 0, '<=', 150.5] }] } }, { total: 0 }, false],
    ['numeric on a string', { data: { total: [{ numeric: ['>', 0] }] } }, { total: '5' }, false],
    ['exists', { data: { email: [{ exists: true }] } }, { email: 'a@b' }, true],
    ['exists false', { data: { email: [{ exists: false }] } }, { phone: '1' }, true],
    ['exists false on a present field', { data: { email: [{ exists: false }] } }, { email: 'a@b' }, false],
    ['a list field, one element matching', { data: { tags: ['sale'] } }, { tags: ['new', 'sale'] }, true],
    ['$or', { data: { $or: [{ type: ['paid'] }, { total: [{ numeric: ['>', 1000] }] }] } }, { type: 'cart', total: 5000 }, true],
  ])('match %s', (_case, pattern, data, expected) => {
    expect(matchesFilter(order(data), [pattern])).toBe(expected);
  });

  it('OR the patterns of a source', () => {
    const patterns = [{ data: { type: ['paid'] } }, { data: { type: ['refunded'] } }];
    expect(matchesFilter(order({ type: 'refunded' }), patterns)).toBe(true);
    expect(matchesFilter(order({ type: 'viewed' }), patterns)).toBe(false);
  });

  it('find no data to match in a Kinesis record whose data is not JSON', () => {
    const text = kinesisRecord({ streamName: 'orders', data: 'type=paid' });
    expect(matchesFilter(text, [{ data: { type: ['paid'] } }])).toBe(false);
    expect(matchesFilter(text, [{ data: [{ exists: false }] }])).toBe(true);
  });

  it('match DynamoDB records as Lambda delivers them: event name and typed images', () => {
    const insert = dynamodbRecord({ eventName: 'INSERT', table: 'Carts', keys: { cartId: 'c1' }, newImage: { cartId: 'c1', status: 'open' } });
    expect(matchesFilter(insert, [{ eventName: ['INSERT'] }])).toBe(true);
    expect(matchesFilter(insert, [{ dynamodb: { NewImage: { status: { S: ['open'] } } } }])).toBe(true);
    expect(matchesFilter(insert, [{ eventName: ['REMOVE'] }])).toBe(false);
  });
});

describe('replay of an app with filters', () => {
  const ddb = useDynamoDBLocal();

  it('drops the records its filters reject before the handler, as Lambda does, and says how many', async () => {
    const counter: Processor<AddEffect> = {
      name: 'counter',
      select: {},
      process: (record) => [{ type: 'add', provenance: provenanceOf(record), table: 'FilteredCounts', key: { id: record.source }, add: { n: 1 } }],
    };
    const app = defineApp({
      name: 'filtered',
      sources: {
        kinesisStreams: ['orders'],
        tables: [
          {
            TableName: 'FilteredCarts',
            KeySchema: [{ AttributeName: 'cartId', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'cartId', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
            StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
          },
        ],
      },
      outputs: [
        {
          TableName: 'FilteredCounts',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        },
      ],
      eventSource: { filters: { orders: [{ data: { type: ['paid'] } }], FilteredCarts: [{ eventName: ['INSERT'] }] } },
      processors: [counter],
    });
    const folder = mkdtempSync(join(tmpdir(), 'shardflow-filters-'));
    try {
      const recording = join(folder, 'recording.jsonl');
      const cart = (eventName: 'INSERT' | 'MODIFY', cartId: string) =>
        dynamodbRecord({ eventName, table: 'FilteredCarts', viewType: 'NEW_IMAGE', keys: { cartId }, newImage: { cartId } });
      const events = [
        kinesisEvent([order({ type: 'paid' }), order({ type: 'viewed' }), order({ type: 'paid' })]),
        kinesisEvent([order({ type: 'viewed' })]),
        dynamodbEvent([cart('INSERT', 'c1'), cart('MODIFY', 'c1')]),
      ];
      writeFileSync(recording, events.map((event) => JSON.stringify(event)).join('\n'));
      const dynamodb = new DynamoDBClient(localClientConfig(ddb.endpoint()));
      const summary = await replay({ app, recordings: [recording], dynamodb });
      dynamodb.destroy();
      expect(summary).toMatchObject({ records: 6, filtered: 3, invocations: 2 });
      expect(summary.totals).toMatchObject({ recordsIn: 3, processed: 3 });
      expect(summary.tables.FilteredCounts).toEqual([
        { id: 'aws:dynamodb', n: 1 },
        { id: 'aws:kinesis', n: 2 },
      ]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
