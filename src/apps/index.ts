import { kinesisLogApp } from './kinesis-log';
import { ordersApp } from './orders';
import { scoresApp } from './scores';
import { tagsApp } from './tags';
import { AppName, type AppDefinition } from './types';

/** Every deployable app by name: what the CLI's `--app` and the CDK stack read. */
export const apps: Readonly<Record<AppName, AppDefinition>> = {
  [AppName.Scores]: scoresApp,
  [AppName.Tags]: tagsApp,
  [AppName.Orders]: ordersApp,
  [AppName.KinesisLog]: kinesisLogApp,
};

export { kinesisLogApp, ordersApp, scoresApp, tagsApp };
export { FAULT_TABLE } from './shared';
