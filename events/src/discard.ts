import { z } from 'zod';

/**
 * An on-failure message an operator discarded (`dataharvest failures discard`): what it was about, when, and why it
 * needed no redrive. Not a batch item: pk `DISCARD`, sk `<discarded_at>#<message id>`, so no change-feed filter
 * matches it. The record outlives the message (SQS keeps one 14 days), so what left the queues unredriven stays known.
 */
export const DISCARD_PK = 'DISCARD';

export const DiscardRecord = z.object({
  pk: z.literal(DISCARD_PK),
  sk: z.string(),
  /** The SQS message id, as `failures` listed it. */
  message_id: z.string(),
  /** The service whose on-failure queue held it. */
  service: z.string(),
  client: z.string().optional(),
  batch_date: z.string().optional(),
  generation: z.number().int().nonnegative().optional(),
  /** The upload an S3-triggered (persistence) failure was about. */
  object_key: z.string().optional(),
  /** Why the step gave up: the message's reason (an error's name and message, never a cell value). */
  reason: z.string(),
  /** Why it was discarded: the batch or file moved on since, or the operator's decision (`--id`). */
  why: z.string(),
  discarded_at: z.string(),
});
export type DiscardRecord = z.infer<typeof DiscardRecord>;

export function discardRecord(fields: Omit<DiscardRecord, 'pk' | 'sk' | 'discarded_at'>, at = new Date()): DiscardRecord {
  const discarded_at = at.toISOString();
  return { pk: DISCARD_PK, sk: `${discarded_at}#${fields.message_id}`, discarded_at, ...fields };
}
