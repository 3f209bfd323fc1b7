/**
 * Seed 000 "page view tags": the PageViews item `ID = "COUNTER"` keeps TotalViews equal to the sum of Count over
 * all tag items (stream side), and `GET /tag/{tag}`, `GET /counts/{tag}` count and show visits (HTTP side,
 * tags-http.ts).
 */
import { createTagTotal, defineApp } from '../index';
import { COUNTER_ID, PAGE_VIEWS, pageViewsTable } from './tables';
import { createTagsHttpHandlers } from './tags-http';

export const tagsApp = defineApp({
  name: 'tags',
  sources: { tables: [pageViewsTable] },
  outputs: [pageViewsTable],
  eventSource: { batchSize: 100, startingPosition: 'TRIM_HORIZON' },
  processors: [
    createTagTotal({ table: PAGE_VIEWS, keyAttribute: 'ID', counterId: COUNTER_ID, countAttribute: 'Count', totalAttribute: 'TotalViews' }),
  ],
  http: (environment) => createTagsHttpHandlers({ dynamodb: environment.dynamodb }).route,
});
