import { createRecordLogger, defineApp, type FilterPattern } from '../../src';

/** An app with one stream and one table source, and the given filters. */
function appWithFilters(filters: unknown) {
  return defineApp({
    name: 'filtered',
    sources: {
      kinesisStreams: ['events'],
      tables: [
        {
          TableName: 'Carts',
          KeySchema: [{ AttributeName: 'CartId', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'CartId', AttributeType: 'S' }],
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
        },
      ],
    },
    eventSource: { filters: filters as Record<string, FilterPattern[]> },
    processors: [createRecordLogger({ name: 'logger' })],
  });
}

describe('event filters declared by an app', () => {
  it('are kept per source, and default to none', () => {
    expect(appWithFilters({ Carts: [{ eventName: ['INSERT'] }] }).eventSource.filters).toEqual({ Carts: [{ eventName: ['INSERT'] }] });
    expect(appWithFilters(undefined).eventSource.filters).toEqual({});
  });

  it.each([
    ['a source the app does not consume', { Orders: [{ eventName: ['INSERT'] }] }, /names "Orders", which is not one of the app's sources \(Carts, events\)/],
    ['more than five patterns', { events: Array.from({ length: 6 }, () => ({ data: { kind: ['a'] } })) }, /filters.events" must be a list of 1 to 5 non-empty pattern objects/],
    ['an empty pattern', { events: [{}] }, /filters.events" must be a list of 1 to 5 non-empty pattern objects/],
    ['patterns that are not a list', { events: { data: {} } }, /filters.events" must be a list/],
    ['a list instead of patterns by source', [{ eventName: ['INSERT'] }], /option "filters" must be an object of filter patterns by source name/],
  ])('refuse %s when the app is defined', (_case, filters, message) => {
    expect(() => appWithFilters(filters)).toThrow(message);
  });
});
