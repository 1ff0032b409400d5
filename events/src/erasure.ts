import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * An erasure request (GDPR art. 17): `dataharvest forget` writes it, the privacy service carries it out and records
 * what it did on the same item. Not a batch item: pk `ERASURE`, sk `<requested_at>#<hash>`. The person's reference
 * never lies in the metastore in clear, neither in the request nor in its record: only a SHA-256 of it with a
 * random salt of the request's own, from which the service finds the reference in the data it holds.
 */
export const ERASURE_PK = 'ERASURE';

/** REQUESTED until the privacy service has erased everything (DONE) or its retries ran out on what it could not (FAILED). */
export const ERASURE_STATUSES = ['REQUESTED', 'DONE', 'FAILED'] as const;

/** What was erased, as counts only: rows per table, objects rewritten per folder. */
export const ErasureCounts = z.object({
  rows: z.record(z.string(), z.number().int().nonnegative()),
  objects: z.record(z.string(), z.number().int().nonnegative()),
  found: z.boolean(),
});
export type ErasureCounts = z.infer<typeof ErasureCounts>;

/** An object the erasure could not rewrite, with why (the error's name and message, values masked): no personal data. */
export const NotErased = z.object({ key: z.string(), reason: z.string() });
export type NotErased = z.infer<typeof NotErased>;

/**
 * An erasure's failed attempts, as a batch's failure item holds a batch's (events/src/failure.ts): `dataharvest
 * failures` maps the privacy service's on-failure message to the request by the change-feed record's place, and
 * `forget` reports what was not erased. An item of its own (pk `ERASURE_FAILURE`, sk the request's sk), so that
 * recording a failure never changes the request, whose change would deliver it to the privacy service again.
 */
export const ERASURE_FAILURE_PK = 'ERASURE_FAILURE';

export const ErasureFailure = z.object({
  pk: z.literal(ERASURE_FAILURE_PK),
  /** The request's sk. */
  sk: z.string(),
  reason: z.string(),
  not_erased: z.array(NotErased),
  attempts: z.number().int().positive(),
  first_seen: z.string(),
  last_seen: z.string(),
  /** The change-feed record that failed last, and its failed attempts: past the mapping's retries, the request is FAILED. */
  shard_id: z.string(),
  sequence_number: z.string(),
  record_attempts: z.number().int().positive(),
  /** Every failed record's sequence number (the latest few): a redrive delivers the request on a new record. */
  sequence_numbers: z.array(z.string()),
});
export type ErasureFailure = z.infer<typeof ErasureFailure>;

export const ErasureRequest = z.object({
  pk: z.literal(ERASURE_PK),
  sk: z.string(),
  status: z.enum(ERASURE_STATUSES),
  salt: z.string().regex(/^[0-9a-f]{32}$/),
  reference_hash: z.string().regex(/^[0-9a-f]{64}$/),
  requested_at: z.string(),
  done_at: z.string().optional(),
  counts: ErasureCounts.optional(),
  /** When its attempts gave up (FAILED): what was not erased is on its failure item. */
  failed_at: z.string().optional(),
  /** When `dataharvest redrive` last sent the request round again. */
  redriven_at: z.string().optional(),
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
