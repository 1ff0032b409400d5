import { LocalCloudError } from '../errors';

/**
 * EventBridge schedule expressions, as an events rule's `ScheduleExpression` takes them (always UTC):
 * `rate(5 minutes)` and the six-field `cron(minutes hours day-of-month month day-of-week year)`. What the local cloud
 * cannot honour (`L`, `W`, `#`) is refused, as are expressions EventBridge refuses.
 */
export interface Schedule {
  /** The first firing strictly after `after`, or undefined when it never fires again (a past year). */
  next(after: Date): Date | undefined;
}

/** An expression EventBridge would refuse, or one the local cloud cannot honour. */
export class ScheduleExpressionError extends LocalCloudError {
  override name = 'ScheduleExpressionError';
}

const MINUTE = 60_000;
const UNITS: Record<string, number> = { minute: MINUTE, minutes: MINUTE, hour: 60 * MINUTE, hours: 60 * MINUTE, day: 1440 * MINUTE, days: 1440 * MINUTE };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
/** How far ahead a cron is searched: five years of days. */
const SEARCH_DAYS = 5 * 366;

/** `anchor` is when a rate rule was created: it fires every period from then, as EventBridge's rate rules do. */
export function parseSchedule(expression: string, anchor: Date): Schedule {
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const singular = !rate[2]!.endsWith('s');
    if (n < 1 || (n === 1) !== singular) throw new ScheduleExpressionError(`${expression}: a rate of 1 takes a singular unit, any other a plural one`);
    const period = n * UNITS[rate[2]!]!;
    return { next: (after) => new Date(anchor.getTime() + (Math.floor((after.getTime() - anchor.getTime()) / period) + 1) * period) };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) throw new ScheduleExpressionError(`${expression}: neither rate(…) nor cron(…)`);
  return cronSchedule(expression, cron[1]!.trim().split(/\s+/));
}

function cronSchedule(expression: string, fields: string[]): Schedule {
  if (fields.length !== 6) throw new ScheduleExpressionError(`${expression}: cron takes six fields (minutes hours day-of-month month day-of-week year)`);
  const [minutes, hours, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) throw new ScheduleExpressionError(`${expression}: one of day-of-month and day-of-week must be ?, not both`);
  const set = {
    minute: field(expression, minutes, 0, 59),
    hour: field(expression, hours, 0, 23),
    dom: dom === '?' ? undefined : field(expression, dom, 1, 31),
    month: field(expression, month, 1, 12, MONTHS),
    // EventBridge numbers the days 1 (SUN) to 7 (SAT); getUTCDay() counts 0 to 6.
    dow: dow === '?' ? undefined : field(expression, dow, 1, 7, DAYS),
    year: field(expression, year, 1970, 2199),
  };
  const hoursSorted = [...set.hour].sort((a, b) => a - b);
  const minutesSorted = [...set.minute].sort((a, b) => a - b);
  return {
    next(after) {
      const startDay = Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate());
      for (let d = 0; d < SEARCH_DAYS; d++) {
        const day = new Date(startDay + d * 1440 * MINUTE);
        const matches = set.year.has(day.getUTCFullYear()) && set.month.has(day.getUTCMonth() + 1) && (set.dom ? set.dom.has(day.getUTCDate()) : set.dow!.has(day.getUTCDay() + 1));
        if (!matches) continue;
        for (const h of hoursSorted) {
          for (const m of minutesSorted) {
            const at = new Date(day.getTime() + (h * 60 + m) * MINUTE);
            if (at > after) return at;
          }
        }
      }
      return undefined;
    },
  };
}

/** One cron field as the set of values it allows: `*`, values, names, ranges, lists and `/` steps. */
function field(expression: string, text: string, min: number, max: number, names: string[] = []): Set<number> {
  if (/[LW#]/.test(text.replace(/[A-Z]{3}/g, (n) => (names.includes(n) ? '' : n)))) {
    throw new ScheduleExpressionError(`${expression}: ${text}: L, W and # are not emulated by the local cloud`);
  }
  const value = (v: string) => {
    const named = names.indexOf(v.toUpperCase());
    const n = named >= 0 ? named + 1 : Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new ScheduleExpressionError(`${expression}: ${text}: ${v} is outside ${min}-${max}`);
    return n;
  };
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new ScheduleExpressionError(`${expression}: ${text}: step ${stepText} is not a positive whole number`);
    const [from, to] = range === '*' ? [min, max] : range.includes('-') ? range.split('-').map(value) : [value(range), stepText === undefined ? value(range) : max];
    if (from! > to!) throw new ScheduleExpressionError(`${expression}: ${text}: ${from}-${to} is an empty range`);
    for (let n = from!; n <= to!; n += step) values.add(n);
  }
  return values;
}
