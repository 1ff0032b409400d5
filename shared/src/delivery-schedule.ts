import { TZDate } from '@date-fns/tz';
import { type Batch, FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import Holidays from 'date-holidays';
import { z } from 'zod';

/**
 * Delivery schedules (docs/operations.md): per client, the business days it delivers on (weekdays but the public
 * holidays of a `date-holidays` calendar), the cut-off by which a business day's files are owed, in the client's
 * IANA time zone (never the host's), the file types owed, whether a day without data may send nothing at all, and
 * whether a control file is owed. A client without a schedule is expected nothing.
 */
const ScheduleFields = z.object({
  /** A `date-holidays` country (and state), e.g. `DE` or `DE-BY`. */
  calendar: z.string().regex(/^[A-Z]{2}(-[A-Z0-9]+)?$/),
  time_zone: z.string().refine(isTimeZone, 'not an IANA time zone'),
  cut_off: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM'),
  files: z.array(z.enum(FILE_TYPES)).min(1),
  /** `may-be-missing`: a day on which nothing at all arrived is not late (no data that day); `empty-file`: it is. */
  empty_day: z.enum(['empty-file', 'may-be-missing']),
  /** Whether `control_<YYYYMMDD>.csv` is owed too: its files then relate only once reconciled with it. */
  control_file: z.boolean().default(false),
});
export type DeliverySchedule = z.infer<typeof ScheduleFields>;

/** The configuration: defaults, and the scheduled clients, each overriding what it needs. */
export const DeliveryConfig = z.object({ defaults: ScheduleFields.partial().default({}), clients: z.record(z.string(), ScheduleFields.partial()) }).transform((config, ctx) => {
  const schedules: Record<string, DeliverySchedule> = {};
  for (const [client, own] of Object.entries(config.clients)) {
    const merged = ScheduleFields.safeParse({ ...config.defaults, ...own });
    if (!merged.success) {
      ctx.addIssue({ code: 'custom', path: ['clients', client], message: merged.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      continue;
    }
    if (!new Holidays().getCountries()[merged.data.calendar.split('-')[0]!])
      ctx.addIssue({ code: 'custom', path: ['clients', client, 'calendar'], message: `unknown calendar ${merged.data.calendar}` });
    schedules[client] = merged.data;
  }
  return schedules;
});
export type DeliverySchedules = z.output<typeof DeliveryConfig>;

/** The function environment that carries the schedules, as the data-quality rules are carried (JSON in a variable). */
export const DeliveryEnv = {
  DELIVERY_SCHEDULES: z
    .string()
    .transform((text) => JSON.parse(text) as unknown)
    .pipe(DeliveryConfig),
};

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const parts = (date: string) => [Number(date.slice(0, 4)), Number(date.slice(4, 6)), Number(date.slice(6, 8))] as const;
const holidayCache = new Map<string, Set<string>>();

/** The calendar's public holidays of a year, as YYYYMMDD (its own days: no time zone is involved). */
function publicHolidays(calendar: string, year: number): Set<string> {
  const key = `${calendar}/${year}`;
  let days = holidayCache.get(key);
  if (!days) {
    const [country, state] = calendar.split('-');
    const all = new Holidays(country!, state ?? '').getHolidays(year) || [];
    days = new Set(all.filter((h) => h.type === 'public').map((h) => h.date.slice(0, 10).replaceAll('-', '')));
    holidayCache.set(key, days);
  }
  return days;
}

/** Monday to Friday, and no public holiday of the client's calendar. */
export function isBusinessDay(schedule: Pick<DeliverySchedule, 'calendar'>, date: string): boolean {
  const [y, m, d] = parts(date);
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return weekday !== 0 && weekday !== 6 && !publicHolidays(schedule.calendar, y).has(date);
}

/** The instant of a day's cut-off: the wall-clock time in the client's zone, whatever the offset that day. */
export function cutOffInstant(schedule: Pick<DeliverySchedule, 'cut_off' | 'time_zone'>, date: string): Date {
  const [y, m, d] = parts(date);
  const [hh, mm] = schedule.cut_off.split(':').map(Number) as [number, number];
  return new Date(new TZDate(y, m - 1, d, hh, mm, 0, schedule.time_zone).getTime());
}

/** The calendar date (YYYYMMDD) it is at `now` in the client's zone. */
export function dateIn(schedule: Pick<DeliverySchedule, 'time_zone'>, now: Date): string {
  const local = new TZDate(now.getTime(), schedule.time_zone);
  return `${local.getFullYear()}${String(local.getMonth() + 1).padStart(2, '0')}${String(local.getDate()).padStart(2, '0')}`;
}

/** The object key's file name of a type owed for a date, as `missing` names it. */
export const owedFileName = (type: string, date: string) => `${type}_${date}.csv`;
export const controlFileName = (date: string) => `control_${date}.csv`;

/** What a schedule owes for a day, and of it what is in (a refused file is in: it is a failure of its own). */
export interface Delivery {
  owed: string[];
  received: string[];
  missing: string[];
  /** What is missing, as the batch item keeps it: the file types absent, and whether the control file is. */
  absent: { files: FileType[]; control: boolean };
}

export function deliveryOf(schedule: Pick<DeliverySchedule, 'files' | 'control_file'>, date: string, batch: Pick<Batch, 'files' | 'control'> | undefined): Delivery {
  const files = schedule.files.filter((type) => !batch?.files[type]);
  const control = schedule.control_file && !batch?.control;
  const owed = [...schedule.files.map((type) => owedFileName(type, date)), ...(schedule.control_file ? [controlFileName(date)] : [])];
  const missing = [...files.map((type) => owedFileName(type, date)), ...(control ? [controlFileName(date)] : [])];
  return { owed, received: owed.filter((f) => !missing.includes(f)), missing, absent: { files, control } };
}
