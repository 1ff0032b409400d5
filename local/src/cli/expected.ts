import type { Batch } from '@dataharvest/events/batch';
import { readConfig } from '@dataharvest/shared/config';
import { cutOffInstant, type DeliverySchedule, type DeliverySchedules, DeliveryEnv, dateIn, deliveryOf, isBusinessDay } from '@dataharvest/shared/delivery-schedule';
import { loadStack } from '../cloud/cloudformation/template';
import { CloudError } from '../cloud/errors';
import type { Connection } from './connection';

/** One scheduled client's business day, as the desk reads it in the morning. */
export interface ExpectedDay {
  client: string;
  date: string;
  /** holiday: nothing owed; expected: before the cut-off; in progress: all in, not COMPLETE yet; missing: past the cut-off, not recorded LATE yet. */
  state: 'holiday' | 'expected' | 'in progress' | 'COMPLETE' | 'LATE' | 'missing';
  cut_off?: string;
  owed: string[];
  received: string[];
  missing: string[];
  /** What the delivery check found missing at the cut-off, kept once the files arrived. */
  late?: string[];
}

/** The schedules the delivery service is packaged with (services/delivery), read as the function reads them. */
export function packagedSchedules(root = process.cwd()): DeliverySchedules {
  const fn = Object.values(loadStack(`${root}/services/delivery`).template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
  const env = (fn?.Properties?.Environment as { Variables?: Record<string, string> } | undefined)?.Variables;
  if (!env?.DELIVERY_SCHEDULES) throw new CloudError('services/delivery is not packaged: run `npm run package`');
  return readConfig(DeliveryEnv, env).DELIVERY_SCHEDULES;
}

/** A client's day from its schedule and its batch item (if any), at `now`. */
export function expectedDay(client: string, schedule: DeliverySchedule, date: string, batch: Batch | undefined, now: Date): ExpectedDay {
  if (!isBusinessDay(schedule, date)) return { client, date, state: 'holiday', owed: [], received: [], missing: [] };
  const cutOff = cutOffInstant(schedule, date);
  const { owed, received, missing } = deliveryOf(schedule, date, batch);
  const mayBeEmpty = !batch && schedule.empty_day === 'may-be-missing';
  // Found late and still owing (a LATE batch, or one whose files are in but not its control file): LATE.
  const late = batch?.stage === 'LATE' || (batch?.late && missing.length);
  const state: ExpectedDay['state'] = late ? 'LATE' : batch?.stage === 'COMPLETE' ? 'COMPLETE' : !missing.length ? 'in progress' : now < cutOff || mayBeEmpty ? 'expected' : 'missing';
  return { client, date, state, cut_off: cutOff.toISOString(), owed, received, missing, ...(batch?.late ? { late: batch.late.missing } : {}) };
}

const bad = (d: ExpectedDay) => d.state === 'LATE' || d.state === 'missing';

/** The console's completeness board: every scheduled client's last business days, one cell a day. */
export interface ExpectedBoard {
  days: string[];
  clients: Array<{ client: string; days: ExpectedDay[] }>;
}

const weekday = (date: string) => new Date(Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8)))).getUTCDay();
const dayBefore = (date: string) => {
  const d = new Date(Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8)) - 1));
  return d.toISOString().slice(0, 10).replaceAll('-', '');
};

/**
 * The last `count` weekdays up to today (in the zone that is furthest on), each client's day judged as `status
 * --expected` judges it from `batches` (every batch item, so the board costs no read of its own). A holiday is a
 * weekday of its own calendar; weekends expect nothing of anyone and take no column.
 */
export function expectedBoard(schedules: DeliverySchedules, batches: Batch[], now: Date, count = 5): ExpectedBoard {
  const entries = Object.entries(schedules);
  if (!entries.length) return { days: [], clients: [] };
  const days: string[] = [];
  for (
    let date = entries
      .map(([, s]) => dateIn(s, now))
      .sort()
      .at(-1)!;
    days.length < count;
    date = dayBefore(date)
  )
    if (weekday(date) % 6 !== 0) days.unshift(date);
  const byKey = new Map(batches.map((b) => [`${b.client}/${b.batch_date}`, b]));
  return { days, clients: entries.map(([client, schedule]) => ({ client, days: days.map((date) => expectedDay(client, schedule, date, byKey.get(`${client}/${date}`), now)) })) };
}

/**
 * `status --expected`: every scheduled client's owed, received, late and missing files for a business day (by default
 * today in each client's zone). Exit 1 when one is LATE or missing.
 */
export async function statusExpected(on: Connection, opts: { date?: string; json: boolean }, schedules = packagedSchedules(), now = new Date()): Promise<number> {
  const days = await Promise.all(
    Object.entries(schedules).map(async ([client, schedule]) => {
      const date = opts.date ?? dateIn(schedule, now);
      return expectedDay(client, schedule, date, await on.metastore.getBatch(client, date), now);
    }),
  );
  process.stdout.write(opts.json ? `${JSON.stringify({ expected: days })}\n` : expectedText(days));
  return days.some(bad) ? 1 : 0;
}

function expectedText(days: ExpectedDay[]): string {
  if (!days.length) return 'no client has a delivery schedule\n';
  const lines = days.flatMap((d) => [
    `${d.client} ${d.date}: ${d.state}${d.cut_off ? ` (cut-off ${d.cut_off})` : ''}`,
    ...(d.state === 'holiday' ? [] : [`  received ${d.received.length} of ${d.owed.length}${d.missing.length ? `; missing ${d.missing.join(', ')}` : ''}`]),
    ...(d.late ? [`  late: ${d.late.join(', ')} missing at the cut-off`] : []),
  ]);
  return `${lines.join('\n')}\n`;
}
