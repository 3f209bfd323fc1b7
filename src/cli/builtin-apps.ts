/**
 * The seed apps the CLI knows by name: the one place outside src/seed that names them. Each is loaded only when
 * asked for.
 */
import type { AppDefinition } from '../app/types';

export const BUILTIN_APPS: Readonly<Record<string, () => AppDefinition>> = {
  /* eslint-disable @typescript-eslint/no-require-imports */
  scores: () => (require('../seed/scores') as typeof import('../seed/scores')).scoresApp,
  tags: () => (require('../seed/tags') as typeof import('../seed/tags')).tagsApp,
  orders: () => (require('../seed/orders') as typeof import('../seed/orders')).ordersApp,
  'kinesis-log': () => (require('../seed/kinesis-log') as typeof import('../seed/kinesis-log')).kinesisLogApp,
  /* eslint-enable @typescript-eslint/no-require-imports */
};

export const BUILTIN_APP_NAMES = Object.keys(BUILTIN_APPS);

/** `npm start`: the seed systems end to end. */
export async function runSeedDemo(options: { scale: number; logFile: string }): Promise<{ ok: boolean }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runDemo } = require('../seed/demo') as typeof import('../seed/demo');
  return runDemo(options);
}
