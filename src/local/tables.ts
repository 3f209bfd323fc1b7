/**
 * Table contents as plain JSON for summaries and checks: numbers as numbers (as strings only when a JavaScript
 * number would change them), sets as sorted arrays, binary as base64. Items are sorted by their key.
 */
import { DescribeTableCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonItem = { [key: string]: JsonValue };

/** A DynamoDB number as a JSON number, unless that would lose digits (more than 15 significant digits). */
function plainNumber(text: string): number | string {
  const value = Number(text);
  if (!Number.isFinite(value)) return text;
  if (/^-?\d+$/.test(text)) return Number.isSafeInteger(value) ? value : text;
  const digits = text.replace(/^-/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '');
  return digits.length <= 15 ? value : text;
}

function plain(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return plainNumber(value.toString());
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Set) {
    return [...value].map(plain).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object') {
    const result: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(value).sort()) result[key] = plain((value as Record<string, unknown>)[key]);
    return result;
  }
  return String(value);
}

/** One DynamoDB item (AttributeValue map) as plain JSON. */
export function plainItem(item: Record<string, AttributeValue>): JsonItem {
  return plain(unmarshall(item, { wrapNumbers: plainNumber })) as JsonItem;
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
    items.push(...(page.Items ?? []).map(plainItem));
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
