import { FILE_TYPES, type Batch, type RejectedKey } from '@dataharvest/events/batch';
import type { PortfolioEvent } from '@dataharvest/events/portfolio-event';

export interface FileReport {
  status: string;
  rows: number;
  reason?: string;
  error_count?: number;
  errors: { line: number; column?: string; reason: string }[];
}

export interface BatchReport {
  client: string;
  batch_date: string | null;
  stage: string;
  files: Record<string, FileReport>;
  transformers: Record<string, { status: string }>;
  data_quality?: Record<string, number>;
  events: PortfolioEvent[];
  /** Events and stream records whose retries ran out during the run: what the on-failure queues received. */
  failures?: Array<{ function: string; reason: string }>;
}

/** The one JSON object `dataharvest run --json` prints: files by type, refused keys by file name. */
export function batchReport(client: string, batch: Batch | undefined, rejected: RejectedKey[], events: PortfolioEvent[], failures: BatchReport['failures'] = []): BatchReport {
  const files: Record<string, FileReport> = {};
  for (const type of FILE_TYPES.filter((t) => batch?.files[t])) {
    const f = batch!.files[type]!;
    files[type] = { status: f.status, rows: f.rows, ...(f.reason ? { reason: f.reason } : {}), ...(f.error_count ? { error_count: f.error_count } : {}), errors: f.errors };
  }
  for (const r of rejected) files[r.file_name] = { status: 'REJECTED', rows: 0, reason: r.reason, errors: [] };
  // Relationship first, as it runs first; then the transformers by name.
  const names = Object.keys(batch?.transformers ?? {}).sort((a, b) => Number(b === 'relationship') - Number(a === 'relationship') || a.localeCompare(b));
  const transformers = Object.fromEntries(names.map((name) => [name, { status: batch!.transformers[name]!.status }]));
  return {
    client,
    batch_date: batch?.batch_date ?? null,
    stage: batch?.stage ?? (rejected.length ? 'REJECTED' : 'RECEIVING'),
    files,
    transformers,
    ...(batch?.data_quality ? { data_quality: batch.data_quality } : {}),
    events,
    ...(failures.length ? { failures } : {}),
  };
}

/** Exit code of a run: 0 only for a COMPLETE batch with nothing refused or given up along the way. */
export function exitCode(report: BatchReport): 0 | 1 {
  const refused = Object.values(report.files).some((f) => f.status !== 'PERSISTED');
  return report.stage === 'COMPLETE' && !refused && !report.failures ? 0 : 1;
}
