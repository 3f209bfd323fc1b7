/** The public DynamoDB factories: every record they make normalizes to what was asked for, in every view type. */
import fc from 'fast-check';
import { ErrorCode, StreamViewType, compareSequenceNumbers, type DynamoDBStreamRecord } from '../../src/index';
import {
  FACTORY_DEFAULTS,
  dynamodbEvent,
  dynamodbRecord,
  dynamodbStreamArn,
  marshallItem,
  rawDynamodbRecord,
  type DynamoDBEventName,
  type DynamoDBItem,
} from '../../src/testing';
import { thrown } from '../helpers/errors';
import { normalizeAll } from '../helpers/normalize';

const normalizeOne = (raw: unknown) => normalizeAll(raw)[0] as DynamoDBStreamRecord;

const EVENT_NAMES: readonly DynamoDBEventName[] = ['INSERT', 'MODIFY', 'REMOVE'];
const TTL_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };

// Values that come back from a stream record unchanged (the number policy's own forms are tested in the runtime).
const attribute = fc.oneof(fc.string({ maxLength: 20 }), fc.maxSafeInteger(), fc.boolean(), fc.constant(null));
const item = (key: number): fc.Arbitrary<DynamoDBItem> =>
  fc.dictionary(fc.stringMatching(/^[A-Z][a-z]{0,9}$/), attribute, { maxKeys: 4 }).map((rest) => ({ ...rest, Id: key }));

/** What the record must say about an image: the item, none (the event has none), or that the view type has none. */
function expectedImage(inView: boolean, inEvent: boolean, image: DynamoDBItem): { image: DynamoDBItem | undefined } | { notInView: true } {
  if (!inView) return { notInView: true };
  return { image: inEvent ? image : undefined };
}

function readImage(read: () => unknown): { image: unknown } | { notInView: true } {
  try {
    return { image: read() };
  } catch (error) {
    expect(error).toMatchObject({ code: ErrorCode.ImageNotInView });
    return { notInView: true };
  }
}

describe('dynamodbRecord', () => {
  it('normalizes to the event, table, keys and the images its view type carries, in every view type', () => {
    const change = fc
      .record({
        viewType: fc.constantFrom(...Object.values(StreamViewType)),
        eventName: fc.constantFrom(...EVENT_NAMES),
        table: fc.stringMatching(/^[A-Za-z0-9_.-]{3,255}$/),
        ttlDelete: fc.boolean(),
        key: fc.integer({ min: 0, max: 1000 }),
      })
      .chain((fields) => fc.record({ oldImage: item(fields.key), newImage: item(fields.key) }).map((images) => ({ ...fields, ...images })));
    fc.assert(
      fc.property(change, ({ viewType, eventName, table, ttlDelete, key, oldImage, newImage }) => {
        const raw = dynamodbRecord({ eventName, viewType, table, keys: { Id: key }, oldImage, newImage, ttlDelete });
        const record = normalizeOne(raw);
        expect(record).toMatchObject({
          source: 'aws:dynamodb',
          kind: eventName.toLowerCase(),
          viewType,
          tableName: table,
          streamArn: dynamodbStreamArn(table),
          keys: { Id: key },
          isTtlDelete: ttlDelete,
        });
        expect(raw.userIdentity).toEqual(ttlDelete ? TTL_IDENTITY : undefined);
        const newInView = viewType === 'NEW_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES';
        const oldInView = viewType === 'OLD_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES';
        expect(readImage(() => record.newImage)).toEqual(expectedImage(newInView, eventName !== 'REMOVE', newImage));
        expect(readImage(() => record.oldImage)).toEqual(expectedImage(oldInView, eventName !== 'INSERT', oldImage));
        // Images the view type or the event does not carry are left out of the raw record, as on a real stream.
        expect('NewImage' in raw.dynamodb!).toBe(newInView && eventName !== 'REMOVE');
        expect('OldImage' in raw.dynamodb!).toBe(oldInView && eventName !== 'INSERT');
      }),
    );
  });

  it('uses the keys as the images it is not given', () => {
    const record = normalizeOne(dynamodbRecord({ eventName: 'MODIFY', keys: { Id: 'a' } }));
    expect(record.newImage).toEqual({ Id: 'a' });
    expect(record.oldImage).toEqual({ Id: 'a' });
  });

  it('gives records made one after another increasing sequence numbers and creation times, on the neutral defaults', () => {
    const records = Array.from({ length: 5 }, () => normalizeOne(dynamodbRecord({ eventName: 'INSERT', keys: { Id: 1 } })));
    for (let i = 1; i < records.length; i++) {
      expect(compareSequenceNumbers(records[i - 1]!.sequenceNumber, records[i]!.sequenceNumber)).toBe(-1);
      expect(records[i]!.arrivalTime).toBeGreaterThan(records[i - 1]!.arrivalTime);
    }
    expect(new Set(records.map((record) => record.eventID)).size).toBe(records.length);
    expect(records[0]).toMatchObject({ tableName: FACTORY_DEFAULTS.tableName, viewType: 'NEW_AND_OLD_IMAGES', awsRegion: FACTORY_DEFAULTS.region });
  });
});

describe('rawDynamodbRecord', () => {
  it('carries the AttributeValues as given, even an image the view type does not have or an invalid number', () => {
    const raw = rawDynamodbRecord({
      eventName: 'INSERT',
      viewType: 'KEYS_ONLY',
      keys: { Id: { N: '1' } },
      newImage: { Id: { N: '1' }, Score: { N: 'lots' } },
    });
    expect(raw.dynamodb).toMatchObject({ StreamViewType: 'KEYS_ONLY', NewImage: { Id: { N: '1' }, Score: { N: 'lots' } } });
    const record = normalizeOne(rawDynamodbRecord({ eventName: 'INSERT', keys: { Id: { N: '1' } }, newImage: { Id: { N: '1' }, Score: { N: 'lots' } } }));
    expect(thrown(() => record.newImage).code).toBe(ErrorCode.InvalidNumber);
  });
});

describe('marshallItem', () => {
  it('writes an item as a stream record carries it, binaries as base64', () => {
    const image = marshallItem({ Id: 1, Data: Uint8Array.of(1, 2, 3), Tags: new Set(['a']) });
    expect(image).toEqual({ Id: { N: '1' }, Data: { B: 'AQID' }, Tags: { SS: ['a'] } });
    const record = normalizeOne(rawDynamodbRecord({ eventName: 'INSERT', keys: { Id: { N: '1' } }, newImage: image }));
    expect(record.newImage).toEqual({ Id: 1, Data: Uint8Array.of(1, 2, 3), Tags: new Set(['a']) });
  });
});

describe('dynamodbEvent', () => {
  it('holds the records in order, in an array of its own', () => {
    const records = [dynamodbRecord({ eventName: 'INSERT', keys: { Id: 1 } }), dynamodbRecord({ eventName: 'REMOVE', keys: { Id: 1 } })];
    const event = dynamodbEvent(records);
    expect(event.Records).toEqual(records);
    expect(event.Records).not.toBe(records);
  });
});
