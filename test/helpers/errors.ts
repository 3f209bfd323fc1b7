import { ShardflowError } from '../../src/runtime/errors';

/** The ShardflowError `action` throws; fails the test when it throws something else or nothing. */
export function thrown(action: () => unknown): ShardflowError {
  try {
    action();
  } catch (error) {
    if (error instanceof ShardflowError) return error;
    throw new Error(`Expected a ShardflowError, got ${String(error)}`);
  }
  throw new Error('Expected the action to throw.');
}
