import { z } from 'zod';

/** The control file's records in the metastore (events/src/control.ts; no import of batch.ts, which uses them). */

/** One file type's line: what the client says it sent. `money_sum` is a decimal with at most two places. */
export const ControlLine = z.object({ rows: z.number().int().nonnegative(), money_sum: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type ControlLine = z.infer<typeof ControlLine>;

/** The batch item's `control`: the latest control file of the batch, RECEIVED with its lines or REJECTED with why. */
export const ControlDetail = z.object({
  status: z.enum(['RECEIVED', 'REJECTED']),
  key: z.string(),
  etag: z.string(),
  at: z.string(),
  lines: z.record(z.string(), ControlLine).optional(),
  reason: z.string().optional(),
  errors: z.array(z.object({ line: z.number().int().positive(), column: z.string().optional(), reason: z.string() })),
});
export type ControlDetail = z.infer<typeof ControlDetail>;

/** A file's reconciliation with the control file (by its etag): MATCH, or MISMATCH (the file is refused with the reason). */
export const FileReconciliation = z.object({ control: z.string(), outcome: z.enum(['MATCH', 'MISMATCH']), at: z.string(), note: z.string().optional() });
export type FileReconciliation = z.infer<typeof FileReconciliation>;
