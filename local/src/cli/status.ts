import type { SQSClient } from '@aws-sdk/client-sqs';
import { STAGES, type Batch, type RejectedKey } from '@dataharvest/events/batch';
import type { FailureRecord } from '@dataharvest/events/failure';
import { createFailureLog } from '@dataharvest/shared/failures';
import { type BatchReport, batchReport, type FailureReport, unhealthy } from './batch-report';
import type { Connection } from './connection';
import { readFailures, release, sqsClient } from './failure-queues';
import { standings } from './failure-resolution';
import { printable } from './printable';
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

/** A failure placed on its batch: from a failure item, or from an on-failure message the metastore has no item for. */
export interface PlacedFailure {
  client: string;
  batch_date: string;
  report: FailureReport;
}

/**
 * How batches are doing, from the metastore: one client's batches, or every batch by stage, with what their records
 * left in the failure log and what persistence left in its on-failure queue. Returns 1 when anything asked about
 * failed or was refused, else 0 (in progress is healthy).
 */
export async function status(on: Connection, opts: StatusOptions, sqs: SQSClient = sqsClient(on)): Promise<number> {
  const { metastore } = on;
  const onDate = (r: RejectedKey) => !opts.date || r.file_name.includes(opts.date);
  const [{ batches, rejected }, failures, uploads] = await Promise.all([
    opts.client
      ? metastore.listClient(opts.client, opts.date)
      : Promise.all([metastore.listByStages(STAGES), metastore.listRejectedKeys()]).then(([all, keys]) => ({ batches: all.filter((b) => !opts.date || b.batch_date === opts.date), rejected: keys })),
    createFailureLog(on.aws.dynamo, metastore.tableName).listFailures(opts.client, opts.date),
    uploadFailures(on, sqs, opts),
  ]);
  const report = statusReport(batches, rejected.filter(onDate), failures, Date.now(), uploads);
  process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : statusText(report));
  return report.rejected.length || report.batches.some(unhealthy) ? 1 : 0;
}

/** The text view of `status`, a line per fact; keys and reasons come from uploads, so each line is `printable`. */
export function statusText(report: StatusReport): string {
  if (!report.batches.length && !report.rejected.length) return 'no batches\n';
  const lines = [...report.batches.flatMap(statusLines), ...report.rejected.map((r) => `${r.client} ${r.file_name}: REJECTED ${r.reason}`)];
  return `${lines.map(printable).join('\n')}\n`;
}

/**
 * Uploads whose persistence gave up: only its on-failure queue knows them (the file never settled, so the metastore
 * may hold no batch at all). Each is marked resolved once a later upload of its file settled.
 */
async function uploadFailures(on: Connection, sqs: SQSClient, opts: StatusOptions): Promise<PlacedFailure[]> {
  const queued = await readFailures(on, sqs);
  await release(sqs, queued);
  const asked = queued.filter((f) => f.objectKey && f.client && f.batchDate && (!opts.client || f.client === opts.client) && (!opts.date || f.batchDate === opts.date));
  const standing = await standings(on, asked);
  return asked.map((f) => {
    const resolved = standing.get(f.id)?.resolved;
    return {
      client: f.client!,
      batch_date: f.batchDate!,
      report: { function: f.service, reason: f.reason, attempts: f.attempts, first_seen: f.firstSeen, last_seen: f.lastSeen, object_key: f.objectKey, ...(resolved ? { resolved } : {}) },
    };
  });
}

/** Each batch with its failures; failures whose batch item is gone (or never was) make a batch of their own. */
export function statusReport(batches: Batch[], rejected: RejectedKey[], failures: FailureRecord[], now: number, queued: PlacedFailure[] = []): StatusReport {
  const id = (client: string, date: string) => `${client}#${date}`;
  const byBatch = new Map<string, PlacedFailure[]>();
  const placed = [...failures.map((f) => ({ client: f.client, batch_date: f.batch_date, report: failureReport(f) })), ...queued];
  for (const p of placed) byBatch.set(id(p.client, p.batch_date), [...(byBatch.get(id(p.client, p.batch_date)) ?? []), p]);
  const reportsOf = (client: string, date: string) => (byBatch.get(id(client, date)) ?? []).map((p) => p.report);
  const reports = batches.map((b) => batchReport(b.client, b, [], undefined, reportsOf(b.client, b.batch_date), now));
  const known = new Set(batches.map((b) => id(b.client, b.batch_date)));
  for (const [key, ps] of byBatch) {
    const { client, batch_date } = ps[0]!;
    if (!known.has(key)) reports.push({ ...batchReport(client, undefined, [], undefined, reportsOf(client, batch_date), now), batch_date });
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
