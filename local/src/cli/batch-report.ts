import { FILE_TYPES, type Batch, type RejectedKey } from '@dataharvest/events/batch';
import type { PortfolioEvent } from '@dataharvest/events/portfolio-event';
import type { Quality } from '@dataharvest/events/quality';
import { type StageTiming, stageTimings } from './stage-timings';

export interface FileReport {
  status: string;
  rows: number;
  reason?: string;
  error_count?: number;
  errors: { line: number; column?: string; reason: string }[];
  /** A large file loaded in chunks: how many. */
  chunks?: number;
}

/** A record whose retries ran out (or are running out): what an on-failure queue holds, or is about to. */
export interface FailureReport {
  function: string;
  reason: string;
  /** The generation it failed for: one older than the batch's is superseded by new data. */
  generation?: number;
  attempts?: number;
  first_seen?: string;
  last_seen?: string;
  /** False while the platform still retries; absent (run's queue messages) means it gave up. */
  gave_up?: boolean;
  /** The upload an S3-triggered (persistence) failure was about. */
  object_key?: string;
  /** Why it no longer holds the batch (it moved on since); `failures discard --resolved` removes it. */
  resolved?: string;
}

/** The batch's control file and each file's reconciliation with it (docs/persistence.md). */
export interface ControlReport {
  file: string;
  status: 'RECEIVED' | 'REJECTED';
  reason?: string;
  errors: { line: number; column?: string; reason: string }[];
  /** Per file type: MATCH, MISMATCH (the file was refused, its reason says why) or PENDING (not loaded or not yet held to it). */
  files: Record<string, 'MATCH' | 'MISMATCH' | 'PENDING'>;
}

export interface BatchReport {
  client: string;
  batch_date: string | null;
  stage: string;
  generation?: number;
  /** Since the batch was created, in milliseconds. */
  age_ms?: number;
  /** Each stage entered, in order, with the time spent in it. */
  timings?: StageTiming[];
  files: Record<string, FileReport>;
  transformers: Record<string, { status: string; reason?: string; duration_ms?: number }>;
  /** The step that failed the batch, and why. */
  failure?: { step: string; reason: string; at: string };
  data_quality?: Record<string, number>;
  quality?: Quality;
  control?: ControlReport;
  /** Files the delivery check found missing at the client's cut-off (services/delivery), kept once they arrived. */
  late?: Batch['late'];
  events_published?: number;
  /** The published events (run); status leaves them out, `events_published` counts them. */
  events?: PortfolioEvent[];
  /** Events and stream records whose retries ran out: what the on-failure queues received. */
  failures?: FailureReport[];
}

const RESTING = new Set(['COMPLETE', 'FAILED', 'REJECTED']);

/** A failure that holds the batch: given up, for the batch's current generation (or of a run, which has one). */
export const holdsBatch = (f: FailureReport, generation: number | undefined) =>
  f.gave_up !== false && !f.resolved && (f.generation === undefined || generation === undefined || f.generation === generation);

/**
 * The one per-batch object `run --json` and `status --json` print: files by type, refused keys by file name. A batch
 * whose records gave up is FAILED, whatever stage it was left in: nothing will move it on until a redrive.
 */
export function batchReport(client: string, batch: Batch | undefined, rejected: RejectedKey[], events: PortfolioEvent[] | undefined, failures: FailureReport[] = [], now = Date.now()): BatchReport {
  const files: Record<string, FileReport> = {};
  for (const type of FILE_TYPES.filter((t) => batch?.files[t])) {
    const f = batch!.files[type]!;
    files[type] = {
      status: f.status,
      rows: f.rows,
      ...(f.reason ? { reason: f.reason } : {}),
      ...(f.error_count ? { error_count: f.error_count } : {}),
      errors: f.errors,
      ...(f.chunks ? { chunks: f.chunks.total } : {}),
    };
  }
  for (const r of rejected) files[r.file_name] = { status: 'REJECTED', rows: 0, reason: r.reason, errors: [] };
  // Relationship first, as it runs first; then the transformers by name.
  const names = Object.keys(batch?.transformers ?? {}).sort((a, b) => Number(b === 'relationship') - Number(a === 'relationship') || a.localeCompare(b));
  const transformers = Object.fromEntries(
    names.map((name) => {
      const t = batch!.transformers[name]!;
      return [name, { status: t.status, ...(t.reason ? { reason: t.reason } : {}), ...(t.duration_ms !== undefined ? { duration_ms: t.duration_ms } : {}) }];
    }),
  );
  const stage = batch?.stage ?? (rejected.length ? 'REJECTED' : 'RECEIVING');
  const gaveUp = failures.some((f) => holdsBatch(f, batch?.generation));
  const quality = batch?.quality;
  const control = batch ? controlReport(batch) : undefined;
  return {
    client,
    batch_date: batch?.batch_date ?? null,
    stage: gaveUp && !RESTING.has(stage) ? 'FAILED' : stage,
    ...(batch ? { generation: batch.generation, age_ms: Math.max(0, now - Date.parse(batch.created_at)), timings: stageTimings(batch, now) } : {}),
    files,
    transformers,
    ...(batch?.failure ? { failure: batch.failure } : {}),
    ...(batch?.late ? { late: batch.late } : {}),
    ...(batch?.data_quality ? { data_quality: batch.data_quality } : {}),
    ...(quality ? { quality } : {}),
    ...(control ? { control } : {}),
    ...(batch?.events_published !== undefined ? { events_published: batch.events_published } : {}),
    ...(events ? { events } : {}),
    ...(failures.length ? { failures } : {}),
  };
}

function controlReport(batch: Batch): ControlReport | undefined {
  const c = batch.control;
  if (!c) return undefined;
  const state = (type: (typeof FILE_TYPES)[number]) => {
    const r = batch.files[type]?.control;
    return r?.control === c.etag ? r.outcome : 'PENDING';
  };
  return {
    file: c.key.split('/').at(-1)!,
    status: c.status,
    ...(c.reason ? { reason: c.reason } : {}),
    errors: c.errors,
    files: Object.fromEntries(FILE_TYPES.map((t) => [t, c.status === 'RECEIVED' ? state(t) : 'PENDING'])),
  };
}

/** Something in the report went wrong: a stage or file refused or failed, a failed quality verdict, a record given up. */
export function unhealthy(report: BatchReport): boolean {
  const refused = Object.values(report.files).some((f) => f.status === 'REJECTED' || f.status === 'FAILED');
  const gaveUp = (report.failures ?? []).some((f) => holdsBatch(f, report.generation));
  return report.stage === 'FAILED' || report.stage === 'REJECTED' || report.stage === 'LATE' || refused || gaveUp || report.quality?.outcome === 'FAIL' || report.control?.status === 'REJECTED';
}

/** Exit code of a run: 0 only for a COMPLETE batch with nothing refused or given up along the way. */
export function exitCode(report: BatchReport): 0 | 1 {
  const settled = Object.values(report.files).every((f) => f.status === 'PERSISTED');
  return report.stage === 'COMPLETE' && settled && !unhealthy(report) ? 0 : 1;
}
