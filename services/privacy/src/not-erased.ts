import type { NotErased } from '@dataharvest/events/erasure';
import { DataHarvestError } from '@dataharvest/shared/errors';
import { safeError } from '@dataharvest/shared/safe-error';

/** An object the erasure could not read or rewrite: its key and the error, values masked. */
export function notErasedBecause(key: string, error: unknown): NotErased {
  const { name, message } = safeError(error);
  return { key, reason: `${name}: ${message}` };
}

/**
 * Objects that still hold the person, or may: every other object was erased, and the tables are left for the retry,
 * which finds the person through them (docs/security.md). The request records the list on its failure item.
 */
export class ErasureIncompleteError extends DataHarvestError {
  constructor(readonly notErased: NotErased[]) {
    super(`${notErased.length} object(s) not erased, the first ${notErased[0]?.key} (${notErased[0]?.reason})`);
    this.name = 'ErasureIncompleteError';
  }
}
