/**
 * The DynamoDB Local fixture on a tiny app of the test's own (carts per day from a Carts table's stream): the
 * app's tables are created, its handler runs on them, and tables and faults read back.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ValidationError, defineApp, provenanceOf, type AddEffect, type Processor, type TableDefinition } from '../../src/index';
import { dynamodbEvent, dynamodbRecord, kinesisEvent, useDynamoDBLocal } from '../../src/testing';

const cartsTable: TableDefinition = {
  TableName: 'Carts',
  KeySchema: [{ AttributeName: 'CartId', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'CartId', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST',
  StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
};

const keyedByDay = (TableName: string): TableDefinition => ({
  TableName,
  KeySchema: [{ AttributeName: 'Day', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'Day', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST',
});

const cartsPerDay: Processor<AddEffect> = {
  name: 'carts-per-day',
  select: { sources: ['aws:dynamodb'], streams: ['Carts'], kinds: ['insert'] },
  process(record) {
    if (record.source !== 'aws:dynamodb') return [];
    const cart = record.newImage ?? {};
    if (typeof cart.Day !== 'string' || typeof cart.Items !== 'number') {
      throw new ValidationError(`Cart ${record.recordId} needs a Day and a number of Items.`);
    }
    return [{ type: 'add', provenance: provenanceOf(record), table: 'CartsPerDay', key: { Day: cart.Day }, add: { Carts: 1, Items: cart.Items } }];
  },
};

const cartsApp = defineApp({ name: 'carts', sources: { tables: [cartsTable] }, outputs: [keyedByDay('CartsPerDay')], processors: [cartsPerDay] });

const cartInsert = (CartId: string, cart: Record<string, unknown>) =>
  dynamodbRecord({ eventName: 'INSERT', table: 'Carts', keys: { CartId }, newImage: { CartId, ...cart } });

const ddb = useDynamoDBLocal({ app: cartsApp, tables: [keyedByDay('Audit')] });

describe('useDynamoDBLocal', () => {
  it("creates the app's tables and the ones it is given", async () => {
    const { TableNames } = await ddb.client().send(new ListTablesCommand({}));
    expect(TableNames?.sort()).toEqual([...cartsApp.tables.map((table) => table.TableName), 'Audit'].sort());
    expect(ddb.endpoint()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("invokes the app's handler, reads a table back sorted by key, and reads the faults it captured", async () => {
    const poison = cartInsert('c-3', { Day: '2026-01-02', Items: 'many' });
    const event = dynamodbEvent([
      cartInsert('c-1', { Day: '2026-01-02', Items: 2 }),
      cartInsert('c-2', { Day: '2026-01-01', Items: 5 }),
      poison,
      cartInsert('c-4', { Day: '2026-01-02', Items: 1 }),
    ]);

    // Delivered twice, as Lambda may: the second delivery changes nothing.
    expect(await ddb.invoke(event)).toEqual({ batchItemFailures: [] });
    expect(await ddb.invoke(event)).toEqual({ batchItemFailures: [] });

    expect(await ddb.readTable('CartsPerDay')).toEqual([
      { Day: '2026-01-01', Carts: 1, Items: 5 },
      { Day: '2026-01-02', Carts: 2, Items: 3 },
    ]);
    const faults = await ddb.faults();
    expect(faults.map((fault) => fault.recordId)).toEqual([poison.eventID]);
    expect(faults[0]).toMatchObject({ raw: poison, error: { code: 'VALIDATION' } });
  });

  it('gives what a handler built by hand needs: an environment on DynamoDB Local and a local Lambda context', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'shardflow-testing-'));
    try {
      const faultFile = join(scratch, 'faults.jsonl');
      const handler = cartsApp.createHandler(ddb.environment({ faults: { file: faultFile } }));
      const context = ddb.context({ timeoutMs: 30_000 });
      expect(context.functionName).toBe('carts');
      const poison = cartInsert('c-6', { Items: 1 });
      await expect(handler(dynamodbEvent([cartInsert('c-5', { Day: '2026-02-01', Items: 4 }), poison]), context)).resolves.toEqual({
        batchItemFailures: [],
      });
      expect((await ddb.readTable('CartsPerDay')).find((row) => row.Day === '2026-02-01')).toEqual({ Day: '2026-02-01', Carts: 1, Items: 4 });
      const captured = (await readFile(faultFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { recordId: string });
      expect(captured.map((fault) => fault.recordId)).toEqual([poison.eventID]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});

describe('useDynamoDBLocal, checked before it starts', () => {
  // Hooks that never run: these checks need no DynamoDB Local.
  const idle = { beforeAll: () => undefined, afterAll: () => undefined };

  it('says that invoke and faults need an app', async () => {
    const fixture = useDynamoDBLocal({ hooks: idle });
    await expect(fixture.invoke(kinesisEvent([]))).rejects.toThrow(/invoke\(\) needs the app: pass option "app"/);
    await expect(fixture.faults()).rejects.toThrow(/faults\(\) needs the app/);
  });

  it('says when it is read before it started', () => {
    expect(() => useDynamoDBLocal({ hooks: idle }).client()).toThrow(/useDynamoDBLocal: it has not started/);
  });

  it('refuses an app that is not an app definition, and unknown options', () => {
    expect(() => useDynamoDBLocal({ app: { name: 'carts' } as never, hooks: idle })).toThrow(/not an app definition .*createHandler/);
    expect(() => useDynamoDBLocal({ tabels: [], hooks: idle } as never)).toThrow(/unknown option "tabels"/);
  });
});
