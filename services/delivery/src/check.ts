import type { Batch } from '@dataharvest/events/batch';
import { cutOffInstant, type DeliverySchedule, type DeliverySchedules, dateIn, isBusinessDay, owedFileName } from '@dataharvest/shared/delivery-schedule';

/** A scheduled client's business day whose cut-off has passed with files owed: what the check records. */
export interface Finding {
  client: string;
  batchDate: string;
  cutOff: string;
  missing: string[];
}

/** The owed files of a day that are not in (a refused file is in: it is a failure of its own, not a lateness). */
export const missingFiles = (schedule: DeliverySchedule, date: string, batch: Pick<Batch, 'files'> | undefined) =>
  schedule.files.filter((type) => !batch?.files[type]).map((type) => owedFileName(type, date));

/**
 * What is late at `now`, for every scheduled client: today in its zone, when today is a business day and its cut-off
 * has passed, and files are owed. A holiday expects nothing; a day without any file is not late when the client may
 * send nothing on an empty day. Reads through `batchOf`, records nothing itself.
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
    const missing = missingFiles(schedule, date, batch);
    if (!missing.length) continue;
    if (!batch && schedule.empty_day === 'may-be-missing') continue;
    findings.push({ client, batchDate: date, cutOff: cutOff.toISOString(), missing });
  }
  return findings;
}
