/** The README's example app, end to end on DynamoDB Local. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { app } from '../../examples/custom-processor';
import { DEFAULT_FAULT_TABLE as FAULT_TABLE, DynamoDBFaultSink } from '../../src/index';
import { createLocalContext, dumpTable, ensureTables, localClientConfig } from '../../src/local/index';
import { kinesisEvent, kinesisRecord } from '../helpers/factories';
import { useDynamoDBLocal } from '../../src/testing';

const ddb = useDynamoDBLocal();

describe('the README example processor', () => {
  it('totals orders per customer once per record, and captures a bad order as a fault', async () => {
    const client = new DynamoDBClient(localClientConfig(ddb.endpoint()));
    // The app names every table it needs: the output, the marker table and the fault table.
    await ensureTables(client, app.tables);
    expect(app.tables.map((table) => table.TableName).sort()).toEqual(['CustomerTotals', 'ShardflowFaults', 'ShardflowMarkers']);
    const handler = app.createHandler({ dynamodb: client });
    const context = createLocalContext({ functionName: 'orders', region: 'us-east-1', timeoutMs: 60_000 });
    const event = kinesisEvent([
      kinesisRecord({ streamName: 'orders', partitionKey: 'ana', json: { customer: 'ana', total: 12.5 } }),
      kinesisRecord({ streamName: 'orders', partitionKey: 'bo', json: { customer: 'bo', total: 3 } }),
      kinesisRecord({ streamName: 'orders', partitionKey: 'ana', json: { customer: 'ana' } }),
      kinesisRecord({ streamName: 'orders', partitionKey: 'ana', json: { customer: 'ana', total: 7.5 } }),
    ]);

    // Delivered twice, as Lambda may: the second delivery changes nothing.
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });

    const totals = await dumpTable(client, 'CustomerTotals');
    expect(totals).toEqual([
      { Customer: 'ana', Orders: 2, Total: 20 },
      { Customer: 'bo', Orders: 1, Total: 3 },
    ]);
    const faults = await new DynamoDBFaultSink({ client, table: FAULT_TABLE }).listFaults();
    expect(faults).toHaveLength(1);
    expect(faults[0].error).toMatchObject({ code: 'VALIDATION', retryable: false });
    expect(faults[0].error.message).toBe(
      `Record ${event.Records[2].eventID} from Kinesis stream orders does not match the schema of processor "orders-per-customer": ` +
        'payload.total: Invalid input: expected number, received undefined.',
    );
    expect(faults[0].raw).toEqual(event.Records[2]);
    client.destroy();
  });
});
