import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * What a published figure was made from, carried by every portfolio event (`lineage`): the batch generation, each of
 * the four files as uploaded (key, version, SHA-256 of its bytes, size, upload time) with the lines of that file that
 * belong to the portfolio, the code digest of every step that computed it, and the digest of the data-quality rule
 * set it was held to. `dataharvest lineage` prints the whole chain; the event keeps it small: a file's lines are
 * ranges (`2-40,57`), cut after MAX_LINES_CHARS characters (then `lines_complete` is false).
 */
export const FileLineage = z.object({
  key: z.string(),
  /** The object's version as persistence read it (S3 version id, or ETag without versioning). */
  version: z.string().optional(),
  sha256: z.string().optional(),
  bytes: z.number().int().nonnegative(),
  uploaded_at: z.string().optional(),
  /**
   * Erasures that rewrote the archived file before this event was published, each with the SHA-256 of the bytes it
   * left: the bytes `sha256` names no longer exist as such (the request is named in the metastore, not here).
   */
  erasures: z.array(z.object({ at: z.string(), sha256: z.string() })).optional(),
  /** The file lines (header = 1) of the portfolio's rows, as ranges. */
  lines: z.string(),
  lines_complete: z.boolean(),
});
export type FileLineage = z.infer<typeof FileLineage>;

export const Lineage = z.object({
  generation: z.number().int().nonnegative(),
  files: z.record(z.string(), FileLineage),
  /** Step name → code digest of what ran for this generation (the relationship step and each required transformer). */
  transformers: z.record(z.string(), z.string()),
  quality_rules: z.string().optional(),
});
export type Lineage = z.infer<typeof Lineage>;

export const MAX_LINES_CHARS = 1000;

/** Sorted line numbers as ranges, `2-4,9`, cut at a range boundary past MAX_LINES_CHARS. */
export function lineRanges(lines: readonly number[]): { lines: string; lines_complete: boolean } {
  const ranges: string[] = [];
  let length = 0;
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j]! + 1) j++;
    const range = j > i ? `${lines[i]}-${lines[j]}` : String(lines[i]);
    if (length + range.length + 1 > MAX_LINES_CHARS) return { lines: ranges.join(','), lines_complete: false };
    ranges.push(range);
    length += range.length + 1;
    i = j + 1;
  }
  return { lines: ranges.join(','), lines_complete: true };
}

/** Line numbers back from `2-4,9`. */
export const linesOf = (ranges: string): number[] =>
  ranges
    ? ranges.split(',').flatMap((r) => {
        const [from, to = from] = r.split('-').map(Number);
        return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
      })
    : [];

/** A code digest: the SHA-256 of the parts as a JSON array (SQL text, rule configs), hex. */
export const codeDigest = (...parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex');
