import type { FileDetail } from '@dataharvest/events/batch';

/**
 * A DynamoDB item holds at most 400 KB, and one batch item carries four file details beside the transformers'
 * states: a file's detail stays within this share of it.
 */
export const MAX_DETAIL_BYTES = 64 * 1024;
/** A file's report names at most this many problems, the first ones (its error count counts them all). */
export const MAX_REPORTED_ERRORS = 100;
/** How much of one reason, or of one column label, a cut detail keeps. */
const MAX_REASON_CHARS = 300;
const MAX_COLUMN_CHARS = 64;

const sizeOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`);

/**
 * The detail as the metastore can hold it: unchanged when it fits, else with reasons and column labels cut and
 * errors dropped from the end until it does, counts kept, and `errors_truncated` set (the full report is in errors/).
 */
export function fitForMetastore(detail: FileDetail): FileDetail {
  if (sizeOf(detail) <= MAX_DETAIL_BYTES) return detail;
  const errors = detail.errors.map((e) => ({ ...e, reason: cut(e.reason, MAX_REASON_CHARS), ...(e.column === undefined ? {} : { column: cut(e.column, MAX_COLUMN_CHARS) }) }));
  const fitted: FileDetail = { ...detail, ...(detail.reason === undefined ? {} : { reason: cut(detail.reason, MAX_REASON_CHARS) }), errors, errors_truncated: true };
  while (fitted.errors.length > 0 && sizeOf(fitted) > MAX_DETAIL_BYTES) fitted.errors.pop();
  return fitted;
}
