import type { CheckpointStore } from '../../src/local/checkpoints';

/**
 * A checkpoint store whose n-th sequence checkpoint fails when `crashesOn(n)` holds (n counts from 1): a crash
 * after a batch was applied but before its checkpoint was written.
 */
export function crashingCheckpoints(store: CheckpointStore, crashesOn: (save: number) => boolean): CheckpointStore {
  let saves = 0;
  return {
    load: (key) => store.load(key),
    saveStart: (key, startedAt) => store.saveStart(key, startedAt),
    saveClosed: (key) => store.saveClosed(key),
    saveSequence: async (key, sequenceNumber) => {
      saves += 1;
      if (crashesOn(saves)) throw new Error(`simulated crash before checkpoint ${saves} was written`);
      await store.saveSequence(key, sequenceNumber);
    },
  };
}
