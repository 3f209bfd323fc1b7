import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { localClientConfig } from '../../src/local/clients';
import { useDynamoDBLocal, useKinesalite } from '../../src/testing';

describe('embedded local services', () => {
  const ddb = useDynamoDBLocal();
  const kinesis = useKinesalite();

  it('serves DynamoDB on loopback', async () => {
    expect(ddb.endpoint()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new DynamoDBClient(localClientConfig(ddb.endpoint()));
    await client.send(
      new CreateTableCommand({
        TableName: 'Probe',
        KeySchema: [{ AttributeName: 'ID', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'ID', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const tables = await client.send(new ListTablesCommand({}));
    expect(tables.TableNames).toEqual(['Probe']);
    client.destroy();
  });

  it('serves Kinesis on loopback', async () => {
    const client = new KinesisClient(localClientConfig(kinesis.endpoint()));
    await client.send(new CreateStreamCommand({ StreamName: 'Lab-Stream', ShardCount: 1 }));
    const streams = await client.send(new ListStreamsCommand({}));
    expect(streams.StreamNames).toEqual(['Lab-Stream']);
    client.destroy();
  });
});
