import { z } from 'zod';

/**
 * What a handler records about a batch it could not handle, before the platform gives up on the record. Not a
 * batch item (sk FAILURE#…): no change-feed filter matches it, so writing it never re-triggers a step.
 *   pk CLIENT#<client>  sk FAILURE#<yyyymmdd>#<function>
 * One item per (client, batch date, function): a later attempt updates it (attempts, last_seen, reason).
 */
export const FailureRecord = z.object({
  pk: z.string().startsWith('CLIENT#'),
  sk: z.string().startsWith('FAILURE#'),
  client: z.string(),
  batch_date: z.string().regex(/^\d{8}$/),
  /** The service that failed (deposit, tax, persistence, …). */
  function: z.string(),
  generation: z.number().int().nonnegative(),
  /** The error's name and message; never a cell value or other personal data. */
  reason: z.string(),
  /** Failed attempts recorded for this generation. */
  attempts: z.number().int().positive(),
  first_seen: z.string(),
  last_seen: z.string(),
  /** True once attempts exhausted the retries: the record sits in the function's on-failure queue. */
  gave_up: z.boolean(),
  /** Where a change-feed record sits (to map an on-failure queue message back to this item). */
  shard_id: z.string().optional(),
  sequence_number: z.string().optional(),
  /** Failed attempts of the latest failed record (`sequence_number`): past the retries, it gave up. */
  record_attempts: z.number().int().positive().optional(),
  /** Every failed record's sequence number of this generation (the latest few). */
  sequence_numbers: z.array(z.string()).optional(),
  /** Where an S3-triggered (persistence) failure came from. */
  object_key: z.string().optional(),
});
export type FailureRecord = z.infer<typeof FailureRecord>;

export const failureKey = (client: string, batchDate: string, fn: string) => ({ pk: `CLIENT#${client}`, sk: `FAILURE#${batchDate}#${fn}` });
