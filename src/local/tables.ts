/**
 * Table contents as plain JSON for summaries and checks: numbers as numbers (as strings only when a JavaScript
 * number would change them), sets as sorted arrays, binary as base64. Items are sorted by their key.
 */
import { DescribeTableCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import { toJsonValue, type JsonValue } from '../processors/json';
import { unmarshallItem } from '../runtime/attribute-values';
import { isObject } from '../runtime/record-fields';
import { lambdaImage } from './lambda-records';

export type JsonItem = { [key: string]: JsonValue };

const byJsonText = (a: JsonValue, b: JsonValue) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

/** `toJsonValue`, with map keys and set members sorted so that summaries compare stably. */
function sortedJson(value: unknown): JsonValue {
  if (value instanceof Set) return [...value].map((member) => toJsonValue(member)).sort(byJsonText);
  if (Array.isArray(value)) return value.map(sortedJson);
  if (!isObject(value) || value instanceof Uint8Array || value instanceof NumberValue) return toJsonValue(value);
  const result: JsonItem = {};
  for (const key of Object.keys(value).sort()) {
    // An attribute may be called "__proto__"; plain assignment would set the prototype instead.
    Object.defineProperty(result, key, { value: sortedJson(value[key]), enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/** One DynamoDB item (AttributeValue map) as plain JSON, numbers converted as the runtime does. */
function plainItem(item: Record<string, AttributeValue>, tableName: string): JsonItem {
  // Scan returns binaries as bytes; unmarshallItem reads the stream-record form, binaries as base64.
  return sortedJson(unmarshallItem(lambdaImage(item), 'item', `in table ${tableName}`)) as JsonItem;
}

function compareKeys(a: JsonValue, b: JsonValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const left = typeof a === 'string' ? a : JSON.stringify(a);
  const right = typeof b === 'string' ? b : JSON.stringify(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Every item of a table as plain JSON, sorted by hash key, then range key. */
export async function dumpTable(client: DynamoDBClient, tableName: string): Promise<JsonItem[]> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const schema = Table?.KeySchema ?? [];
  const keys = ['HASH', 'RANGE'].flatMap((type) => schema.filter((key) => key.KeyType === type).map((key) => key.AttributeName ?? ''));
  const items: JsonItem[] = [];
  let exclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: exclusiveStartKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []).map((item) => plainItem(item, tableName)));
    exclusiveStartKey = page.LastEvaluatedKey;
  } while (exclusiveStartKey !== undefined);
  return items.sort((a, b) => {
    for (const key of keys) {
      const order = compareKeys(a[key] ?? null, b[key] ?? null);
      if (order !== 0) return order;
    }
    return 0;
  });
}
