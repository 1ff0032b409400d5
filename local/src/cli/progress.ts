import type { Batch, RejectedKey } from '@dataharvest/events/batch';
import { errorPlace } from '@dataharvest/events/error-place';
import type { BatchReport } from './batch-report';
import { qualityLines } from './quality-view';

/**
 * One line `observe` may print: `id` names it (printed once), `state` the metastore entry it comes from as it was
 * written (its time), so that an entry a previous attempt left is told from one this run wrote.
 */
interface Entry {
  id: string;
  state: string;
  text: string;
}

/** What the batch item and the refused keys say, a line each: refusals, files, transformers, quality, stage. */
function entries(batch: Batch | undefined, rejected: RejectedKey[]): Entry[] {
  const out: Entry[] = rejected.map((r) => ({ id: `rejected:${r.key}:${r.at}`, state: `rejected:${r.key}:${r.at}`, text: `${r.file_name.padEnd(24)} REJECTED   ${r.reason}` }));
  if (!batch) return out;
  for (const [type, f] of Object.entries(batch.files)) {
    const detail = f.status === 'PERSISTED' ? `${f.rows} rows in ${f.duration_ms ?? '?'} ms` : `${f.reason ?? ''}${f.error_count ? ` (${f.error_count} errors)` : ''}`;
    out.push({ id: `file:${type}:${f.etag}:${f.status}`, state: `file:${type}:${f.at}`, text: `${type.padEnd(24)} ${f.status.padEnd(10)} ${detail}` });
  }
  for (const [name, t] of Object.entries(batch.transformers)) {
    out.push({
      id: `tf:${name}:${t.generation}:${t.status}`,
      state: `tf:${name}:${t.at}`,
      text: `${name.padEnd(24)} ${t.status.padEnd(10)} ${t.duration_ms !== undefined ? `${t.duration_ms} ms` : ''}`,
    });
  }
  if (batch.quality) {
    const id = `quality:${batch.generation}:${batch.quality.outcome}`;
    out.push({ id, state: id, text: qualityLines(batch.quality).join('\n') });
  }
  const stage = `stage:${batch.generation}:${batch.stage}`;
  out.push({ id: stage, state: stage, text: `stage ${batch.stage}${batch.stage === 'COMPLETE' ? ` (${batch.events_published ?? 0} events published)` : ''}` });
  return out;
}

/** The human view of a run: one timestamped line per change in the metastore, then a summary. */
export class Progress {
  private readonly started = Date.now();
  private readonly seen = new Set<string>();
  /** The entries the metastore held before this run uploaded anything: a previous attempt's, never printed. */
  private readonly before = new Set<string>();

  constructor(private enabled: boolean) {}

  /** Nothing more is printed: the summary is the last word. */
  end(): void {
    this.enabled = false;
  }

  line(text: string): void {
    if (this.enabled) process.stdout.write(`[${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)}s] ${text}\n`);
  }

  /** The batch and refused keys as they were before the uploads: what observe then sees of them is not this run's. */
  baseline(batch: Batch | undefined, rejected: RejectedKey[]): void {
    for (const e of entries(batch, rejected)) this.before.add(e.state);
  }

  /** Prints what changed since the last look (file outcomes, transformer outcomes, stage moves), this run's only. */
  observe(batch: Batch | undefined, rejected: RejectedKey[]): void {
    for (const e of entries(batch, rejected)) {
      if (this.seen.has(e.id) || this.before.has(e.state)) continue;
      this.seen.add(e.id);
      this.line(e.text);
    }
  }

  summary(report: BatchReport): void {
    if (this.enabled) process.stdout.write(`${summaryLines(report).join('\n')}\n`);
  }
}

/** How many errors of a file, and how many events, the human summary shows: --json has them all. */
const SHOWN_ERRORS = 10;
const SHOWN_EVENTS = 20;

/** The human summary of a run, short whatever the size of the batch. */
export function summaryLines(report: BatchReport): string[] {
  const out: string[] = ['', `batch ${report.client}/${report.batch_date ?? '-'}: ${report.stage}`];
  const more = (n: number, what: string, indent: string) => (n > 0 ? [`${indent}… and ${n} more ${what} (use --json for all)`] : []);
  for (const [name, f] of Object.entries(report.files)) {
    out.push(`  ${name.padEnd(24)} ${f.status.padEnd(10)} ${f.rows} rows${f.reason ? `  ${f.reason}` : ''}`);
    for (const e of f.errors.slice(0, SHOWN_ERRORS)) out.push(`      ${errorPlace(e)}: ${e.reason}`);
    out.push(...more((f.error_count ?? f.errors.length) - Math.min(f.errors.length, SHOWN_ERRORS), 'errors', '      '));
  }
  for (const [name, t] of Object.entries(report.transformers)) out.push(`  ${name.padEnd(24)} ${t.status}${t.reason ? `  ${t.reason}` : ''}`);
  for (const f of report.failures ?? []) out.push(`  ${f.function}: gave up after retries (${f.reason})`);
  const events = report.events ?? [];
  for (const e of events.slice(0, SHOWN_EVENTS)) {
    out.push(`  event ${e.portfolio_reference} v${e.version}: deposits ${e.deposits_total}, ${e.transaction_count} transactions, net ${e.net_amount}, taxes paid ${e.taxes_paid}`);
  }
  out.push(...more(events.length - SHOWN_EVENTS, 'events', '  '));
  return out;
}
