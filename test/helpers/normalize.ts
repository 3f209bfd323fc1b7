/** Raw factory records through the real normalizer. */
import type { StreamRecord } from '../../src/runtime/model';
import { normalizeRecord } from '../../src/runtime/normalize';

/** Every normalized record of one raw record (several for a KPL aggregate); throws the decoding error if it does not decode. */
export function normalizeAll(raw: unknown, position = 0): StreamRecord[] {
  const result = normalizeRecord(raw, position);
  if (!result.ok) throw result.error;
  return [...result.records];
}
