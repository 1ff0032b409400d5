import type { Batch } from '@dataharvest/events/batch';
import { cutOffInstant, type Delivery, type DeliverySchedules, dateIn, deliveryOf, isBusinessDay } from '@dataharvest/shared/delivery-schedule';

/** A scheduled client's business day whose cut-off has passed with files owed: what the check records. */
export interface Finding {
  client: string;
  batchDate: string;
  cutOff: string;
  missing: string[];
  absent: Delivery['absent'];
}

/**
 * What is late at `now`, for every scheduled client: today in its zone, when today is a business day and its cut-off
 * has passed, and files (or the control file its schedule owes) are missing. A holiday expects nothing; a day without
 * any file is not late when the client may send nothing on an empty day. Reads through `batchOf`, records nothing itself.
 */
export async function findLate(schedules: DeliverySchedules, now: Date, batchOf: (client: string, date: string) => Promise<Batch | undefined>): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const [client, schedule] of Object.entries(schedules)) {
    const date = dateIn(schedule, now);
    if (!isBusinessDay(schedule, date)) continue;
    const cutOff = cutOffInstant(schedule, date);
    if (now < cutOff) continue;
    const batch = await batchOf(client, date);
    if (batch?.late) continue;
    const { missing, absent } = deliveryOf(schedule, date, batch);
    if (!missing.length) continue;
    if (!batch && schedule.empty_day === 'may-be-missing') continue;
    findings.push({ client, batchDate: date, cutOff: cutOff.toISOString(), missing, absent });
  }
  return findings;
}
