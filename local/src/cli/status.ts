import { STAGES, type Batch, type RejectedKey } from '@dataharvest/events/batch';
import type { Metastore } from '@dataharvest/shared/metastore';

export interface StatusOptions {
  client?: string;
  date?: string;
  json: boolean;
}

/** How batches are doing, straight from the metastore: one client's batches, or every batch by stage. */
export async function status(metastore: Metastore, opts: StatusOptions): Promise<number> {
  const { batches, rejected } = opts.client
    ? await metastore.listClient(opts.client, opts.date)
    : { batches: (await metastore.listByStages(STAGES)).filter((b) => !opts.date || b.batch_date === opts.date), rejected: [] as RejectedKey[] };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ batches, rejected })}\n`);
    return 0;
  }
  if (!batches.length && !rejected.length) process.stdout.write('no batches\n');
  for (const b of batches) process.stdout.write(describe(b));
  for (const r of rejected) process.stdout.write(`${r.client} ${r.file_name}: REJECTED ${r.reason}\n`);
  return 0;
}

function describe(b: Batch): string {
  const files = Object.entries(b.files)
    .map(([t, f]) => `${t} ${f.status}${f.status === 'PERSISTED' ? ` ${f.rows} rows` : ''}`)
    .join(', ');
  const transformers = Object.entries(b.transformers)
    .map(([n, t]) => `${n} ${t.status}`)
    .join(', ');
  return `${b.client} ${b.batch_date}: ${b.stage} (generation ${b.generation})\n  files: ${files || '-'}\n  transformers: ${transformers || '-'}\n`;
}
