import type { Batch, RejectedKey, RowError } from '@dataharvest/events/batch';
import { INCOMING_PREFIX } from '@dataharvest/events/object-key';
import { isUnsafeKey, settledKey } from '@dataharvest/shared/load/objects';

/** A refused or leniently loaded upload, as the metastore records it, with where its objects are in the ingest bucket. */
export interface FileReportEntry {
  client: string;
  /** None for a key refused outright (its name holds no valid batch date). */
  batch_date: string | null;
  file_name: string;
  /** The upload's own key, incoming/<client>/<file name>. */
  key: string;
  /** REJECTED (or FAILED): nothing of it loaded; PERSISTED: loaded leniently, without its `rejected_rows`. */
  status: string;
  reason?: string;
  rows: number;
  rejected_rows?: number;
  /** Every problem found; `errors` holds the first of them (the metastore keeps up to 100, fewer when cut to fit). */
  error_count: number;
  errors: RowError[];
  errors_truncated?: boolean;
  at: string;
  /** Where the uploaded file is now: quarantine/… when refused, archive/… when loaded; its own key where persistence may not move it. */
  copy: string;
  /** The full report, errors/<key without incoming/>.json; none for a lenient load (its rejected rows are in PostgreSQL's `rejects`). */
  report: string | null;
}

/** The full report persistence writes beside a refused upload. */
export const reportKey = (key: string) => `${settledKey('errors', key)}.json`;

/** Persistence moves an upload only from incoming/, and never addresses an unsafe key: such an object stays where it is. */
const copyOf = (key: string, folder: 'quarantine' | 'archive') => (key.startsWith(INCOMING_PREFIX) && !isUnsafeKey(key) ? settledKey(folder, key) : key);

const refused = (status: string) => status === 'REJECTED' || status === 'FAILED';

/**
 * The refused and leniently loaded uploads of a client's batches (each file's latest upload, as the batch item keeps
 * it) and the keys refused outright; with a date, those of that batch, and the refused keys whose name holds it.
 */
export function fileReports(batches: Batch[], rejected: RejectedKey[], date?: string): FileReportEntry[] {
  const entries: FileReportEntry[] = [];
  for (const b of batches.filter((b) => !date || b.batch_date === date)) {
    for (const f of Object.values(b.files)) {
      const lenient = f.status === 'PERSISTED' && (f.rejected_rows ?? 0) > 0;
      if (!refused(f.status) && !lenient) continue;
      entries.push({
        client: b.client,
        batch_date: b.batch_date,
        file_name: f.key.split('/').at(-1)!,
        key: f.key,
        status: f.status,
        ...(f.reason ? { reason: f.reason } : {}),
        rows: f.rows,
        ...(lenient ? { rejected_rows: f.rejected_rows } : {}),
        error_count: f.error_count ?? f.errors.length,
        errors: f.errors,
        ...(f.errors_truncated ? { errors_truncated: true } : {}),
        at: f.at,
        copy: copyOf(f.key, lenient ? 'archive' : 'quarantine'),
        report: lenient ? null : reportKey(f.key),
      });
    }
  }
  for (const r of rejected.filter((r) => !date || r.file_name.includes(date))) {
    entries.push({
      client: r.client,
      batch_date: null,
      file_name: r.file_name,
      key: r.key,
      status: 'REJECTED',
      reason: r.reason,
      rows: 0,
      error_count: 0,
      errors: [],
      at: r.at,
      copy: copyOf(r.key, 'quarantine'),
      report: reportKey(r.key),
    });
  }
  return entries.sort((a, b) => (b.batch_date ?? '').localeCompare(a.batch_date ?? '') || a.file_name.localeCompare(b.file_name));
}

/** Whether any entry was refused: `reports` then exits 1, as `status` does for a refused file. */
export const anyRefused = (entries: FileReportEntry[]) => entries.some((e) => refused(e.status));

/**
 * The report key that `--show FILE` (and the console's link) means: an entry's key, copy, report or file name; an
 * errors/… key as it is; a quarantine/, archive/ or incoming/ key's report; a bare file name under the client's folder.
 */
export function reportFor(file: string, client: string, entries: FileReportEntry[]): string | null {
  const entry = entries.find((e) => [e.key, e.copy, e.report, e.file_name].includes(file));
  if (entry) return entry.report;
  if (file.startsWith('errors/')) return file;
  const settled = /^(quarantine|archive)\//.exec(file);
  if (settled) return reportKey(`${INCOMING_PREFIX}${file.slice(settled[0].length)}`);
  if (file.includes('/')) return reportKey(file);
  return reportKey(`${INCOMING_PREFIX}${client}/${file}`);
}
