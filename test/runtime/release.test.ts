/**
 * The batch loop drops what processors decoded from a record once they are done with it (`releaseRecord`), so a
 * batch does not keep every parsed payload and image alive until its sinks run. Whatever is read afterwards must
 * be what was read before.
 */
import fc from 'fast-check';
import type { DynamoDBStreamRecord, KinesisStreamRecord, StreamRecord } from '../../src/runtime/model';
import { releaseRecord } from '../../src/runtime/normalize';
import { definePipeline } from '../../src/runtime/pipeline';
import type { AddEffect, EffectBase, RecordEffects, Sink, SinkResult } from '../../src/runtime/types';
import { dynamodbEvent, dynamodbRecord, kinesisEvent, kinesisRecord, kplAggregateRecord } from '../helpers/factories';
import { normalizeAll } from '../helpers/normalize';

/** Everything a reader can see of a record, read through its public properties. */
function snapshot(record: StreamRecord): Record<string, unknown> {
  const common = {
    source: record.source,
    kind: record.kind,
    eventID: record.eventID,
    recordId: record.recordId,
    streamArn: record.streamArn,
    shardId: record.shardId,
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: record.subSequenceNumber,
    position: record.position,
    arrivalTime: record.arrivalTime,
    awsRegion: record.awsRegion,
    bytes: Buffer.from(record.payload.bytes),
    gzipped: record.payload.gzipped,
    text: record.payload.text(),
  };
  if (record.source === 'aws:kinesis') {
    return { ...common, streamName: record.streamName, aggregated: record.aggregated, explicitHashKey: record.explicitHashKey };
  }
  return {
    ...common,
    tableName: record.tableName,
    viewType: record.viewType,
    isTtlDelete: record.isTtlDelete,
    sizeBytes: record.sizeBytes,
    keys: record.keys,
    newImage: record.newImage,
    oldImage: record.oldImage,
    json: record.payload.json(),
  };
}

describe('releaseRecord', () => {
  it('leaves a plain Kinesis record reading the same payload, decoded again', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const [record] = normalizeAll(kinesisRecord({ json: value })) as [KinesisStreamRecord];
        const before = snapshot(record);
        const json = record.payload.json();
        releaseRecord(record);
        expect(snapshot(record)).toEqual(before);
        expect(record.payload.json()).toEqual(json);
      }),
      { numRuns: 50 },
    );
  });

  it('drops the inflated bytes of a gzip record, and keeps the user records of a KPL aggregate', () => {
    const gzip = normalizeAll(kinesisRecord({ json: { zipped: true }, gzip: true }));
    const kpl = normalizeAll(
      kplAggregateRecord([
        { partitionKey: 'a', data: '{"n":1}', explicitHashKey: '42' },
        { partitionKey: 'b', data: '{"n":2}' },
      ]),
    );
    for (const record of [...gzip, ...kpl]) {
      const before = snapshot(record);
      const json = record.payload.json();
      const bytes = record.payload.bytes;
      releaseRecord(record);
      expect(snapshot(record)).toEqual(before);
      expect(record.payload.json()).toEqual(json);
      // Inflated again after a release; a KPL user record's bytes are a view into the aggregate, made again.
      expect(record.payload.bytes).toEqual(bytes);
      if (!record.payload.gzipped) {
        expect(record.payload.bytes.buffer).toBe(bytes.buffer);
        expect(record.payload.bytes.byteOffset).toBe(bytes.byteOffset);
      }
    }
    expect(kpl.map((r) => [r.recordId, r.partitionKey, r.payload.json()])).toEqual([
      [`${kpl[0]!.eventID}#0`, 'a', { n: 1 }],
      [`${kpl[0]!.eventID}#1`, 'b', { n: 2 }],
    ]);
  });

  it('leaves a DynamoDB record reading the same keys, images and payload, converted again', () => {
    const raw = dynamodbRecord({
      eventName: 'MODIFY',
      keys: { Id: 7, Sort: 'x' },
      oldImage: { Id: 7, Sort: 'x', n: 1, tags: new Set(['a']) },
      newImage: { Id: 7, Sort: 'x', n: 2, big: 12345678901234567890n },
    });
    const [record] = normalizeAll(raw) as [DynamoDBStreamRecord];
    const before = snapshot(record);
    releaseRecord(record);
    expect(snapshot(record)).toEqual(before);
    expect(record.partitionKey).toBe(before.partitionKey);
  });

  it('still reports an image the view type does not carry, after a release', () => {
    const [record] = normalizeAll(dynamodbRecord({ eventName: 'INSERT', keys: { Id: 1 }, viewType: 'KEYS_ONLY' })) as [
      DynamoDBStreamRecord,
    ];
    releaseRecord(record);
    expect(() => record.newImage).toThrow(/view type KEYS_ONLY/);
  });
});

/** A sink that reads each record's payload when it applies: after the loop released the record. */
class PayloadReadingSink implements Sink<AddEffect> {
  readonly name = 'payload-reader';
  readonly seen: unknown[] = [];

  accepts(effect: EffectBase): effect is AddEffect {
    return effect.type === 'add';
  }

  async apply(batch: readonly RecordEffects<AddEffect>[]): Promise<SinkResult> {
    for (const { record } of batch) this.seen.push(record.source === 'aws:kinesis' ? record.payload.json() : record.newImage);
    return { failed: [] };
  }
}

describe('the batch loop and released records', () => {
  const adds = {
    name: 'adds',
    select: {},
    process: (record: StreamRecord): AddEffect[] => [
      { type: 'add', provenance: record, table: 't', key: { id: record.recordId }, add: { n: 1 } },
    ],
  };

  it('gives sinks records whose payload still reads as delivered', async () => {
    const values = [{ a: 1 }, { b: [2, 3] }, 'text', null];
    const sink = new PayloadReadingSink();
    const pipeline = definePipeline({ processors: [adds], sinks: [sink] });
    const outcome = await pipeline.run(kinesisEvent(values.map((json) => kinesisRecord({ json }))));
    expect(outcome.response.batchItemFailures).toEqual([]);
    expect(sink.seen).toEqual(values);
  });

  it('gives sinks DynamoDB records whose new image still reads as delivered', async () => {
    const items = [
      { Id: 1, name: 'one' },
      { Id: 2, name: 'two', score: 2.5 },
    ];
    const sink = new PayloadReadingSink();
    const pipeline = definePipeline({ processors: [adds], sinks: [sink] });
    await pipeline.run(dynamodbEvent(items.map((item) => dynamodbRecord({ eventName: 'INSERT', keys: { Id: item.Id }, newImage: item }))));
    expect(sink.seen).toEqual(items);
  });
});
