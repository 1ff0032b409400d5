import { BATCH_DATE_RANGE, isCalendarDate } from '@dataharvest/events/object-key';
import { UsageError } from './errors';

/** How much of a refused value a message quotes: enough to recognise it, never a screenful. */
const QUOTED = 24;

/**
 * A `--date`-like option's value: a real calendar day as YYYYMMDD (not 2024-03-15, not 20240230), within the dates
 * batches may have, as persistence checks a file name's date; else a usage error. Every date option goes through
 * here, so `status --date 2024-03-15` is a usage error rather than "no batches".
 */
export function calendarDate(value: string, flag: string): string {
  const shown = value.length > QUOTED ? `${value.slice(0, QUOTED)}…` : value;
  if (!/^\d{8}$/.test(value) || !isCalendarDate(value)) throw new UsageError(`${flag} takes a calendar date as YYYYMMDD, not ${shown}`);
  if (value < BATCH_DATE_RANGE.from || value > BATCH_DATE_RANGE.to) throw new UsageError(`${flag} ${value} is outside 1900-01-01..2100-12-31`);
  return value;
}

/** commander's parser for a date option: refuses a bad date while parsing, before the command connects anywhere. */
export const dateOption = (flag: string) => (value: string) => calendarDate(value, flag);
