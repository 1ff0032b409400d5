import type { Batch, RejectedKey } from '@dataharvest/events/batch';
import type { BatchReport } from './batch-report';

/** The human view of a run: one timestamped line per change in the metastore, then a summary. */
export class Progress {
  private readonly started = Date.now();
  private readonly seen = new Set<string>();

  constructor(private readonly enabled: boolean) {}

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
    once(`stage:${batch.generation}:${batch.stage}`, `stage ${batch.stage}${batch.stage === 'COMPLETE' ? ` (${batch.events_published ?? 0} events published)` : ''}`);
  }

  summary(report: BatchReport): void {
    if (!this.enabled) return;
    const out: string[] = ['', `batch ${report.client}/${report.batch_date ?? '-'}: ${report.stage}`];
    for (const [name, f] of Object.entries(report.files)) {
      out.push(`  ${name.padEnd(24)} ${f.status.padEnd(10)} ${f.rows} rows${f.reason ? `  ${f.reason}` : ''}`);
      for (const e of f.errors.slice(0, 10)) out.push(`      line ${e.line}${e.column ? `, column ${e.column}` : ''}: ${e.reason}`);
    }
    for (const [name, t] of Object.entries(report.transformers)) out.push(`  ${name.padEnd(24)} ${t.status}`);
    for (const f of report.failures ?? []) out.push(`  ${f.function}: gave up after retries (${f.reason})`);
    for (const e of report.events) {
      out.push(`  event ${e.portfolio_reference} v${e.version}: deposits ${e.deposits_total}, ${e.transaction_count} transactions, net ${e.net_amount}, taxes paid ${e.taxes_paid}`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  }
}
