import type { _Record as StreamsRecord, AttributeValue } from '@aws-sdk/client-dynamodb-streams';
import { lambdaDynamoDBRecord } from '../../src/local/lambda-records';
import { dynamodbStreamArn } from '../helpers/factories';

describe('lambdaDynamoDBRecord', () => {
  it('keeps an attribute called __proto__ as an attribute, at any depth', () => {
    const image: Record<string, AttributeValue> = { ID: { S: 'a' } };
    const nested: Record<string, AttributeValue> = {};
    // As the SDK's JSON parsing leaves it: an own property, not the prototype.
    Object.defineProperty(nested, '__proto__', { value: { S: 'inner' }, enumerable: true, writable: true, configurable: true });
    Object.defineProperty(image, '__proto__', { value: { M: nested }, enumerable: true, writable: true, configurable: true });
    const record: StreamsRecord = { eventName: 'INSERT', dynamodb: { Keys: { ID: { S: 'a' } }, NewImage: image, SequenceNumber: '1' } };

    const newImage = lambdaDynamoDBRecord(record, { streamArn: dynamodbStreamArn() }).dynamodb?.NewImage ?? {};

    expect(Object.keys(newImage)).toEqual(['ID', '__proto__']);
    expect(Object.getPrototypeOf(newImage)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(newImage))).toEqual(JSON.parse('{"ID":{"S":"a"},"__proto__":{"M":{"__proto__":{"S":"inner"}}}}'));
  });
});
