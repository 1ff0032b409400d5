import type { Batch, RejectedKey } from '@dataharvest/events/batch';
import type { BatchReport } from './batch-report';
import { qualityLines } from './quality-view';

/** The human view of a run: one timestamped line per change in the metastore, then a summary. */
export class Progress {
  private readonly started = Date.now();
  private readonly seen = new Set<string>();

  constructor(private enabled: boolean) {}

  /** Nothing more is printed: the summary is the last word. */
  end(): void {
    this.enabled = false;
  }

  line(text: string): void {
    if (this.enabled) process.stdout.write(`[${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)}s] ${text}\n`);
  }

  /** Prints what changed since the last look: file outcomes, transformer outcomes, stage moves. */
  observe(batch: Batch | undefined, rejected: RejectedKey[]): void {
    const once = (id: string, text: string) => {
      if (!this.seen.has(id)) {
        this.seen.add(id);
        this.line(text);
      }
    };
    for (const r of rejected) once(`rejected:${r.key}:${r.at}`, `${r.file_name.padEnd(24)} REJECTED   ${r.reason}`);
    if (!batch) return;
    for (const [type, f] of Object.entries(batch.files)) {
      const detail = f.status === 'PERSISTED' ? `${f.rows} rows in ${f.duration_ms ?? '?'} ms` : `${f.reason ?? ''}${f.error_count ? ` (${f.error_count} errors)` : ''}`;
      once(`file:${type}:${f.etag}:${f.status}`, `${type.padEnd(24)} ${f.status.padEnd(10)} ${detail}`);
    }
    for (const [name, t] of Object.entries(batch.transformers)) {
      once(`tf:${name}:${t.generation}:${t.status}`, `${name.padEnd(24)} ${t.status.padEnd(10)} ${t.duration_ms !== undefined ? `${t.duration_ms} ms` : ''}`);
    }
    if (batch.quality) once(`quality:${batch.generation}:${batch.quality.outcome}`, qualityLines(batch.quality).join('\n'));
    once(`stage:${batch.generation}:${batch.stage}`, `stage ${batch.stage}${batch.stage === 'COMPLETE' ? ` (${batch.events_published ?? 0} events published)` : ''}`);
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
    for (const e of f.errors.slice(0, SHOWN_ERRORS)) out.push(`      line ${e.line}${e.column ? `, column ${e.column}` : ''}: ${e.reason}`);
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
