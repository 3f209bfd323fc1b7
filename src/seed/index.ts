/** The seed systems, as apps built on shardflow's public API like a user's own. */
import { kinesisLogApp } from './kinesis-log';
import { ordersApp } from './orders';
import { scoresApp } from './scores';
import { tagsApp } from './tags';

export const seedApps = [scoresApp, tagsApp, ordersApp, kinesisLogApp] as const;

export { kinesisLogApp, ordersApp, scoresApp, tagsApp };
