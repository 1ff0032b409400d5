import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type Connection, ingestBucket } from './connection';
import { anyRefused, type FileReportEntry, fileReports, reportFor } from './file-reports';
import { printable } from './printable';

export interface ReportsOptions {
  client: string;
  date?: string;
  json: boolean;
  /** Print this file's full report from the bucket instead of the listing. */
  show?: string;
}

/** How many of a file's errors the listing shows: --json has what the metastore keeps, --show the full report. */
const SHOWN_ERRORS = 10;

/**
 * `dataharvest reports`: a client's refused and leniently loaded uploads, from the metastore records persistence
 * writes, with their errors and where the quarantined copy and the full report are in the ingest bucket. Exit 1 when
 * one was refused (as `status`), else 0. With `--show FILE`, that file's report from the bucket: exit 1 when there is none.
 */
export async function reports(on: Connection, opts: ReportsOptions): Promise<number> {
  const { batches, rejected } = await on.metastore.listClient(opts.client, opts.date);
  const entries = fileReports(batches, rejected, opts.date);
  if (opts.show !== undefined) return show(on, opts, entries);
  if (opts.json) process.stdout.write(`${JSON.stringify({ reports: entries })}\n`);
  else if (!entries.length) process.stdout.write(`nothing refused or loaded leniently for ${opts.client}${opts.date ? ` ${opts.date}` : ''}\n`);
  else process.stdout.write(`${entries.flatMap(entryLines).join('\n')}\n`);
  return anyRefused(entries) ? 1 : 0;
}

/** One file's lines in the listing; its name and reasons come from the upload, so each line is `printable`. */
export function entryLines(e: FileReportEntry): string[] {
  const outcome = e.status === 'PERSISTED' ? `PERSISTED ${e.rows} rows, ${e.rejected_rows} rejected` : `${e.status}${e.reason ? `: ${e.reason}` : ''}`;
  const lines = [`${e.client} ${e.batch_date ?? '-'} ${e.file_name}: ${outcome}`];
  for (const err of e.errors.slice(0, SHOWN_ERRORS)) lines.push(`    line ${err.line}${err.column ? `, column ${err.column}` : ''}: ${err.reason}`);
  const more = e.error_count - Math.min(e.errors.length, SHOWN_ERRORS);
  if (more > 0) lines.push(`    … and ${more} more errors (--show ${e.file_name} for the full report)`);
  lines.push(`  copy:   ${e.copy}`);
  lines.push(`  report: ${e.report ?? "none: a lenient load's rejected rows are in PostgreSQL's rejects table"}`);
  return lines.map(printable);
}

/** The report persistence wrote: { key, status, reason, error_count, errors }. */
interface StoredReport {
  key: string;
  status: string;
  reason?: string;
  error_count: number;
  errors: Array<{ line: number; column?: string; reason: string }>;
}

async function show(on: Connection, opts: ReportsOptions, entries: FileReportEntry[]): Promise<number> {
  const key = reportFor(opts.show!, opts.client, entries);
  if (key === null) {
    process.stderr.write(`dataharvest: ${opts.show} was loaded leniently: it has no report, its rejected rows are in PostgreSQL's rejects table\n`);
    return 1;
  }
  let text: string;
  try {
    const object = await on.aws.s3.send(new GetObjectCommand({ Bucket: ingestBucket(on.deployment), Key: key }));
    text = await object.Body!.transformToString('utf8');
  } catch (error) {
    if ((error as Error).name !== 'NoSuchKey') throw error;
    process.stderr.write(`dataharvest: no report ${key} in the ingest bucket: \`dataharvest reports --client ${opts.client}\` lists the reports there are\n`);
    return 1;
  }
  const report = JSON.parse(text) as StoredReport;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  }
  const lines = [`${key}: ${report.key} ${report.status}${report.reason ? `: ${report.reason}` : ''}`, `${report.error_count} error(s)`];
  for (const err of report.errors) lines.push(`  line ${err.line}${err.column ? `, column ${err.column}` : ''}: ${err.reason}`);
  if (report.error_count > report.errors.length) lines.push(`  … ${report.error_count - report.errors.length} more not kept (the report holds the first ${report.errors.length})`);
  process.stdout.write(`${lines.map(printable).join('\n')}\n`);
  return 0;
}
