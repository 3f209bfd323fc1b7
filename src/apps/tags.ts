/**
 * Seed 000 "page view tags", stream side: the PageViews item `ID = "COUNTER"` keeps TotalViews equal to the sum
 * of Count over all tag items. The HTTP side (visits and counts) is in tags-http.ts.
 */
import { createTagTotal } from '../processors/tags';
import { buildHandler, faultTable, markerTable } from './shared';
import { COUNTER_ID, PAGE_VIEWS, pageViewsTable } from './tables';
import { AppName, type AppDefinition } from './types';

export const tagsApp: AppDefinition = {
  name: AppName.Tags,
  description: `Keeps ${PAGE_VIEWS} item ${COUNTER_ID}.TotalViews equal to the sum of Count over all tag items.`,
  tables: [pageViewsTable, markerTable, faultTable],
  kinesisStreams: [],
  outputTables: [PAGE_VIEWS],
  eventSource: { batchSize: 100, startingPosition: 'TRIM_HORIZON' },
  createHandler: (environment) =>
    buildHandler({
      app: AppName.Tags,
      environment,
      processors: [createTagTotal({ table: PAGE_VIEWS, counterId: COUNTER_ID })],
      outputTables: [PAGE_VIEWS],
    }),
};
