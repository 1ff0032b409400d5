import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * An erasure request (GDPR art. 17): `dataharvest forget` writes it, the privacy service carries it out and records
 * what it did on the same item. Not a batch item: pk `ERASURE`, sk `<requested_at>#<hash>`. The person's reference
 * never lies in the metastore in clear, neither in the request nor in its record: only a SHA-256 of it with a
 * random salt of the request's own, from which the service finds the reference in the data it holds.
 */
export const ERASURE_PK = 'ERASURE';

export const ERASURE_STATUSES = ['REQUESTED', 'DONE'] as const;

/** What was erased, as counts only: rows per table, objects rewritten per folder. */
export const ErasureCounts = z.object({
  rows: z.record(z.string(), z.number().int().nonnegative()),
  objects: z.record(z.string(), z.number().int().nonnegative()),
  found: z.boolean(),
});
export type ErasureCounts = z.infer<typeof ErasureCounts>;

export const ErasureRequest = z.object({
  pk: z.literal(ERASURE_PK),
  sk: z.string(),
  status: z.enum(ERASURE_STATUSES),
  salt: z.string().regex(/^[0-9a-f]{32}$/),
  reference_hash: z.string().regex(/^[0-9a-f]{64}$/),
  requested_at: z.string(),
  done_at: z.string().optional(),
  counts: ErasureCounts.optional(),
});
export type ErasureRequest = z.infer<typeof ErasureRequest>;

/** A client reference as PostgreSQL prints a uuid: lower case. */
export const normalReference = (reference: string) => reference.trim().toLowerCase();

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The salted hash the request carries: sha256(salt || reference), hex. PostgreSQL computes the same with sha256(). */
export const referenceHash = (salt: string, reference: string) =>
  createHash('sha256')
    .update(salt + normalReference(reference))
    .digest('hex');

/** A new request for one reference: its item, in state REQUESTED. */
export function erasureRequest(reference: string, at = new Date()): ErasureRequest {
  const salt = randomBytes(16).toString('hex');
  const reference_hash = referenceHash(salt, reference);
  const requested_at = at.toISOString();
  return { pk: ERASURE_PK, sk: `${requested_at}#${reference_hash}`, status: 'REQUESTED', salt, reference_hash, requested_at };
}
