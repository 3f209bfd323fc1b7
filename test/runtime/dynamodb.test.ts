import fc from 'fast-check';
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import { unmarshallItem } from '../../src/runtime/attribute-values';
import { canonicalKey, normalizeDynamoDBRecord } from '../../src/runtime/dynamodb';
import { ErrorCode } from '../../src/runtime/errors';
import type { DynamoDBStreamRecord, Item } from '../../src/runtime/model';
import {
  dynamodbRecord,
  dynamodbStreamArn,
  marshallItem,
  rawDynamodbRecord,
  type DynamoDBEventName,
  type DynamoDBItem,
  type DynamoDBViewType,
} from '../helpers/factories';
import { thrown } from '../helpers/errors';

// Values in the form the number policy produces, so a round trip must give them back unchanged.
const DIGITS = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 22 });
const safeInteger = fc.maxSafeInteger();
const shortDecimal = fc
  .double({ noNaN: true, noDefaultInfinity: true, min: -1e100, max: 1e100 })
  .map((d) => Number(d.toPrecision(1 + (Math.abs(Math.trunc(d * 7)) % 15))))
  .filter((d) => (Number.isSafeInteger(d) || !Number.isInteger(d)) && (d === 0 || Math.abs(d) >= 1e-120))
  .map((d) => (Object.is(d, -0) ? 0 : d));
const bigInteger = fc
  .bigInt({ min: 2n ** 53n, max: 10n ** 38n - 1n })
  .chain((b) => fc.constantFrom(b, -b, b * 10n ** BigInt(Number(b % 80n))))
  .filter((b) => b.toString().replace(/^-/, '').replace(/0+$/, '').length <= 38);
// Decimals with 16 to 38 significant digits: only NumberValue keeps them exact.
const longDecimal = fc
  .tuple(fc.boolean(), DIGITS, DIGITS)
  .map(([negative, int, frac]) => {
    const integerPart = int.replace(/^0+(?=\d)/, '');
    const fraction = frac.replace(/0+$/, '') || '1';
    return `${negative ? '-' : ''}${integerPart}.${fraction}`;
  })
  .filter((text) => {
    const significant = text.replace(/[-.]/g, '').replace(/^0+/, '').length;
    return significant > 15 && significant <= 38;
  })
  .map((text) => new NumberValue(text));
const exactNumber = fc.oneof(safeInteger, shortDecimal, bigInteger, longDecimal);

const attributeName = fc.string({ minLength: 1, maxLength: 12 }).filter((name) => name !== '__proto__');
const binary = fc.uint8Array({ maxLength: 24 }).map((bytes) => new Uint8Array(bytes));

const { value: attributeValue } = fc.letrec<{ value: unknown; map: DynamoDBItem }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 20 }),
    exactNumber,
    binary,
    fc.boolean(),
    fc.constant(null),
    fc.uniqueArray(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 5 }).map((a) => new Set(a)),
    fc.oneof(
      fc.uniqueArray(safeInteger, { minLength: 1, maxLength: 5 }),
      fc.uniqueArray(shortDecimal, { minLength: 1, maxLength: 5 }),
      fc.uniqueArray(bigInteger, { minLength: 1, maxLength: 5 }),
      fc.uniqueArray(longDecimal, { minLength: 1, maxLength: 5, selector: (n) => n.value }),
    ).map((a) => new Set<unknown>(a)),
    fc.uniqueArray(binary, { minLength: 1, maxLength: 4, selector: (b) => Buffer.from(b).toString('hex') }).map((a) => new Set(a)),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('map'),
  ),
  map: fc.dictionary(attributeName, tie('value'), { maxKeys: 5 }) as fc.Arbitrary<DynamoDBItem>,
}));
const item = fc.dictionary(attributeName, attributeValue, { maxKeys: 8 }) as fc.Arbitrary<DynamoDBItem>;

function normalize(raw: unknown, position = 0): DynamoDBStreamRecord {
  return normalizeDynamoDBRecord(raw, position);
}


describe('normalizeDynamoDBRecord', () => {
  it('reads the Lambda guide sample, with its short sequence number and no creation time', () => {
    const raw = {
      eventID: '1',
      eventVersion: '1.0',
      dynamodb: {
        Keys: { Id: { N: '101' } },
        NewImage: { Message: { S: 'New item!' }, Id: { N: '101' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        SequenceNumber: '111',
        SizeBytes: 26,
      },
      awsRegion: 'us-west-2',
      eventName: 'INSERT',
      eventSourceARN: 'arn:aws:dynamodb:us-west-2:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899',
      eventSource: 'aws:dynamodb',
    };
    const record = normalize(raw, 2);
    expect(record).toMatchObject({
      source: 'aws:dynamodb',
      kind: 'insert',
      eventID: '1',
      recordId: '1',
      tableName: 'ExampleTableWithStream',
      streamArn: raw.eventSourceARN,
      shardId: undefined,
      subSequenceNumber: undefined,
      sequenceNumber: '111',
      sizeBytes: 26,
      viewType: 'NEW_AND_OLD_IMAGES',
      isTtlDelete: false,
      keys: { Id: 101 },
      partitionKey: '[["Id",{"N":"101"}]]',
      position: 2,
      awsRegion: 'us-west-2',
    });
    expect(typeof record.arrivalTime).toBe('number');
    expect(record.raw).toBe(raw);
    expect(record.newImage).toEqual({ Message: 'New item!', Id: 101 });
    expect(record.oldImage).toBeUndefined();
    expect(record.payload.json()).toEqual(raw.dynamodb);
    expect(JSON.parse(Buffer.from(record.payload.bytes).toString())).toEqual(raw.dynamodb);
  });

  it('reads the creation time, table name and event kinds', () => {
    const record = normalize(dynamodbRecord({ eventName: 'MODIFY', table: 'Orders', keys: { Id: 1 }, creationSeconds: 1479499740 }));
    expect(record).toMatchObject({ kind: 'modify', tableName: 'Orders', arrivalTime: 1479499740000, streamArn: dynamodbStreamArn('Orders') });
    expect(normalize(dynamodbRecord({ eventName: 'REMOVE', keys: { Id: 1 } })).kind).toBe('remove');
  });

  it('keeps any item through marshall and a stream record, under the number policy', () => {
    fc.assert(
      fc.property(item, item, (newImage, oldImage) => {
        const record = normalize(dynamodbRecord({ eventName: 'MODIFY', keys: { RecordID: 1 }, newImage, oldImage }));
        expect(record.newImage).toEqual(newImage);
        expect(record.oldImage).toEqual(oldImage);
      }),
      { numRuns: 300 },
    );
  });

  it('converts numbers by the policy: number, bigint or exact NumberValue', () => {
    const cases: [string, unknown][] = [
      ['0', 0],
      ['-0', 0],
      ['42', 42],
      ['-17.25', -17.25],
      ['9007199254740991', Number.MAX_SAFE_INTEGER],
      ['9007199254740992', 9007199254740992n],
      ['-9007199254740992', -9007199254740992n],
      ['1E+2', 100],
      ['1.5e1', 15],
      ['1E30', 10n ** 30n],
      ['0.000001', 0.000001],
      ['123456789012345.6', new NumberValue('123456789012345.6')],
      ['12345678901234.5', 12345678901234.5],
      ['99999999999999999999999999999999999999', 10n ** 38n - 1n],
      ['9.9999999999999999999999999999999999999E+125', 10n ** 126n - 10n ** 88n],
      ['1E-130', 1e-130],
      ['0.1234567890123456789012345678901234567', new NumberValue('0.1234567890123456789012345678901234567')],
      ['1000000000000000000000000000000000000000', 10n ** 39n],
    ];
    for (const [text, expected] of cases) {
      expect(unmarshallItem({ n: { N: text } }, 'item', 'e1')).toEqual({ n: expected });
    }
  });

  it('rejects numbers DynamoDB cannot hold with INVALID_NUMBER naming the attribute', () => {
    for (const text of ['1234567890123456789012345678901234567891', '1E126', '1E-131', 'abc', '', '.', '1..2', 'NaN', 'Infinity', '0x10', '1e']) {
      const error = thrown(() => unmarshallItem({ score: { M: { value: { N: text } } } }, 'newImage', 'e1'));
      expect(error.code).toBe(ErrorCode.InvalidNumber);
      expect(error.message).toContain('newImage.score.value');
      expect(error.message).toContain('e1');
    }
  });

  it('accepts nesting up to the 32 levels DynamoDB allows and refuses deeper', () => {
    const nested = (levels: number): Record<string, unknown> => {
      let value: Record<string, unknown> = { S: 'bottom' };
      for (let level = 1; level < levels; level++) value = { M: { inner: value } };
      return { deep: value };
    };
    const depthOf = (item: Record<string, unknown>): number => {
      let depth = 0;
      for (let value: unknown = item.deep; typeof value === 'object' && value !== null; value = (value as { inner?: unknown }).inner) depth++;
      return depth + 1;
    };
    expect(depthOf(unmarshallItem(nested(32), 'item', 'e1'))).toBe(32);
    expect(() => unmarshallItem(nested(33), 'item', 'e1')).toThrow(/nests deeper than DynamoDB's limit of 32 levels/);
  });

  it('decodes B and BS from base64 into bytes', () => {
    const result = unmarshallItem({ b: { B: 'AQID' }, bs: { BS: ['AA==', '/w=='] } }, 'item', 'e1');
    expect(result.b).toEqual(Uint8Array.of(1, 2, 3));
    expect(result.bs).toEqual(new Set([Uint8Array.of(0), Uint8Array.of(255)]));
  });

  it('keeps an attribute called __proto__ as an attribute', () => {
    // JSON.parse, as Lambda's runtime does: an object literal would set the prototype instead.
    const result = unmarshallItem(JSON.parse('{"__proto__":{"M":{"polluted":{"S":"yes"}}},"ok":{"S":"x"}}'), 'item', 'e1');
    expect(Object.keys(result)).toEqual(['__proto__', 'ok']);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect((result as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toEqual({ polluted: 'yes' });
  });

  describe('view types', () => {
    const events: DynamoDBEventName[] = ['INSERT', 'MODIFY', 'REMOVE'];
    const viewTypes: DynamoDBViewType[] = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'];
    const cases = viewTypes.flatMap((viewType) => events.map((eventName) => [viewType, eventName] as const));

    it.each(cases)('%s %s gives the images the view and event carry', (viewType, eventName) => {
      const newImage = { Id: 1, v: 'new' };
      const oldImage = { Id: 1, v: 'old' };
      const record = normalize(dynamodbRecord({ eventName, viewType, keys: { Id: 1 }, newImage, oldImage }));
      expect(record.viewType).toBe(viewType);
      expect(record.keys).toEqual({ Id: 1 });
      const check = (read: () => Item | undefined, carried: boolean, present: boolean, expected: Item, which: string) => {
        if (!carried) {
          const error = thrown(read);
          expect(error.code).toBe(ErrorCode.ImageNotInView);
          expect(error.retryable).toBe(false);
          expect(error.recordId).toBe(record.eventID);
          expect(error.message).toContain(record.eventID);
          expect(error.message).toContain(viewType);
          expect(error.message).toContain(which);
        } else if (!present) expect(read()).toBeUndefined();
        else expect(read()).toEqual(expected);
      };
      check(() => record.newImage, viewType === 'NEW_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES', eventName !== 'REMOVE', newImage, 'new');
      check(() => record.oldImage, viewType === 'OLD_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES', eventName !== 'INSERT', oldImage, 'old');
    });

    it('rejects a record without an image its view type and event promise', () => {
      const raw = rawDynamodbRecord({ eventName: 'MODIFY', viewType: 'NEW_IMAGE', keys: { Id: { N: '1' } } });
      const error = thrown(() => normalize(raw));
      expect(error.code).toBe(ErrorCode.MissingField);
      expect(error.message).toContain('dynamodb.NewImage');
      expect(error.message).toContain(raw.eventID);
    });
  });

  it('marks deletes by the TTL process', () => {
    expect(normalize(dynamodbRecord({ eventName: 'REMOVE', keys: { Id: 1 }, ttlDelete: true })).isTtlDelete).toBe(true);
    expect(normalize(dynamodbRecord({ eventName: 'REMOVE', keys: { Id: 1 } })).isTtlDelete).toBe(false);
    const other = { ...dynamodbRecord({ eventName: 'REMOVE', keys: { Id: 1 } }), userIdentity: { type: 'Service', principalId: 'someone.amazonaws.com' } };
    expect(normalize(other).isTtlDelete).toBe(false);
  });

  it('makes the same partition key for equal keys in any attribute order, and different ones otherwise', () => {
    const keyValue = fc.oneof(
      fc.string({ minLength: 1, maxLength: 10 }),
      safeInteger,
      fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => new Uint8Array(b)),
    );
    const keys = fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }).filter((n) => n !== '__proto__'), keyValue, { minKeys: 1, maxKeys: 2 });
    fc.assert(
      fc.property(keys, keys, (a, b) => {
        const reversed = Object.fromEntries(Object.entries(a).reverse());
        const key = (k: DynamoDBItem) => normalize(dynamodbRecord({ eventName: 'INSERT', keys: k, viewType: 'KEYS_ONLY' })).partitionKey;
        expect(key(reversed)).toBe(key(a));
        const equalKeys = Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((n) => n in b) &&
          Object.keys(a).every((n) => JSON.stringify(marshallItem({ v: a[n] })) === JSON.stringify(marshallItem({ v: b[n] })));
        expect(key(a) === key(b)).toBe(equalKeys);
      }),
    );
  });

  it('spells the partition key as the JSON of the sorted [name, AttributeValue] pairs', () => {
    const scalar = fc.oneof(
      fc.record({ S: fc.string({ unit: 'binary', maxLength: 12 }) }),
      fc.record({ N: fc.string({ maxLength: 12 }) }),
      fc.record({ B: fc.base64String({ maxLength: 12 }) }),
      fc.record({ SS: fc.array(fc.string(), { maxLength: 2 }) }),
    );
    const rawKeys = fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }), scalar, { minKeys: 1, maxKeys: 3 });
    fc.assert(
      fc.property(rawKeys, (keys) => {
        const expected = JSON.stringify(Object.keys(keys).sort().map((name) => [name, keys[name]]));
        expect(canonicalKey(keys)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('reads images lazily and once', () => {
    const record = normalize(dynamodbRecord({ eventName: 'MODIFY', keys: { Id: 1 }, newImage: { Id: 1, l: [1, 2] } }));
    expect(record.newImage).toBe(record.newImage);
  });

  it('reports bad attributes inside an image when the image is read', () => {
    const raw = rawDynamodbRecord({
      eventName: 'INSERT',
      keys: { Id: { N: '1' } },
      newImage: { Id: { N: '1' }, tags: { L: [{ S: 'a' }, { X: 'b' } as never] } },
    });
    const record = normalize(raw);
    const error = thrown(() => record.newImage);
    expect(error.code).toBe(ErrorCode.UnknownAttributeType);
    expect(error.message).toContain('newImage.tags[1]');
    expect(error.message).toContain(raw.eventID);
  });
});
