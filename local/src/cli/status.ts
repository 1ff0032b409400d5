import { STAGES, type Batch, type RejectedKey } from '@dataharvest/events/batch';
import type { FailureRecord } from '@dataharvest/events/failure';
import { createFailureLog } from '@dataharvest/shared/failures';
import { type BatchReport, batchReport, type FailureReport, unhealthy } from './batch-report';
import type { Connection } from './connection';
import { statusLines } from './status-view';

export interface StatusOptions {
  client?: string;
  date?: string;
  json: boolean;
}

/** What `status --json` prints: each batch as `run --json` reports it, and the keys refused outright. */
export interface StatusReport {
  batches: BatchReport[];
  rejected: Array<Pick<RejectedKey, 'client' | 'key' | 'file_name' | 'reason' | 'at'>>;
}

/**
 * How batches are doing, from the metastore: one client's batches, or every batch by stage, with what their records
 * left in the failure log. Returns 1 when anything asked about failed or was refused, else 0 (in progress is healthy).
 */
export async function status(on: Connection, opts: StatusOptions): Promise<number> {
  const { metastore } = on;
  const [{ batches, rejected }, failures] = await Promise.all([
    opts.client
      ? metastore.listClient(opts.client, opts.date)
      : metastore.listByStages(STAGES).then((all) => ({ batches: all.filter((b) => !opts.date || b.batch_date === opts.date), rejected: [] as RejectedKey[] })),
    createFailureLog(on.aws.dynamo, metastore.tableName).listFailures(opts.client, opts.date),
  ]);
  const report = statusReport(batches, rejected, failures, Date.now());
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    if (!report.batches.length && !report.rejected.length) process.stdout.write('no batches\n');
    for (const b of report.batches) process.stdout.write(`${statusLines(b).join('\n')}\n`);
    for (const r of report.rejected) process.stdout.write(`${r.client} ${r.file_name}: REJECTED ${r.reason}\n`);
  }
  return report.rejected.length || report.batches.some(unhealthy) ? 1 : 0;
}

/** Each batch with its failure items; a failure item whose batch item is gone (or never was) is a batch of its own. */
export function statusReport(batches: Batch[], rejected: RejectedKey[], failures: FailureRecord[], now: number): StatusReport {
  const id = (client: string, date: string) => `${client}#${date}`;
  const byBatch = new Map<string, FailureRecord[]>();
  for (const f of failures) byBatch.set(id(f.client, f.batch_date), [...(byBatch.get(id(f.client, f.batch_date)) ?? []), f]);
  const reports = batches.map((b) => batchReport(b.client, b, [], undefined, (byBatch.get(id(b.client, b.batch_date)) ?? []).map(failureReport), now));
  const known = new Set(batches.map((b) => id(b.client, b.batch_date)));
  for (const [key, fs] of byBatch) {
    if (!known.has(key)) reports.push({ ...batchReport(fs[0]!.client, undefined, [], undefined, fs.map(failureReport), now), batch_date: fs[0]!.batch_date });
  }
  reports.sort((a, b) => a.client.localeCompare(b.client) || (b.batch_date ?? '').localeCompare(a.batch_date ?? ''));
  return { batches: reports, rejected: rejected.map(({ client, key, file_name, reason, at }) => ({ client, key, file_name, reason, at })) };
}

const failureReport = (f: FailureRecord): FailureReport => ({
  function: f.function,
  reason: f.reason,
  generation: f.generation,
  attempts: f.attempts,
  first_seen: f.first_seen,
  last_seen: f.last_seen,
  gave_up: f.gave_up,
});
