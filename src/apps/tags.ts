/**
 * Seed 000 "page view tags", stream side: the PageViews item `ID = "COUNTER"` keeps TotalViews equal to the sum
 * of Count over all tag items. The HTTP side (visits and counts) is in tags-http.ts.
 */
import { createTagTotal } from '../processors/tags';
import { defineApp, faultTable, markerTable } from './shared';
import { COUNTER_ID, PAGE_VIEWS, pageViewsTable } from './tables';
import { AppName } from './types';

export const tagsApp = defineApp({
  name: AppName.Tags,
  tables: [pageViewsTable, markerTable, faultTable],
  kinesisStreams: [],
  outputTables: [PAGE_VIEWS],
  eventSource: { batchSize: 100, startingPosition: 'TRIM_HORIZON' },
  processors: () => [createTagTotal({ table: PAGE_VIEWS, counterId: COUNTER_ID })],
});
