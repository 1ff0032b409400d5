import { existsSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generate } from '@dataharvest/local/generate/index';
import { CsvValidator } from '@dataharvest/shared/load/csv-validator';

/**
 * Micro-benchmark of the hot validator alone: the generated transactions file, already in memory, pushed in 1 MiB
 * chunks. Prints MB/s per run; `npx tsx services/persistence/bench/validator.bench.ts --rows N`.
 */
const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '7' } } });
const rows = Number(values.rows);
const file = join('.dataharvest', 'bench', `transactions_${rows}_1.csv`);
if (!existsSync(file)) await generate({ type: 'transactions', rows, seed: 1, out: file });
const data = readFileSync(file);
const chunks: Buffer[] = [];
for (let i = 0; i < data.length; i += 1 << 20) chunks.push(data.subarray(i, i + (1 << 20)));
for (let run = 0; run < Number(values.runs); run++) {
  const v = new CsvValidator('transactions');
  const started = performance.now();
  for (const c of chunks) v.push(c);
  v.end();
  const ms = performance.now() - started;
  if (v.rows !== rows || v.errorCount) throw new Error(`unexpected verdict: ${v.rows} rows, ${v.errorCount} errors`);
  process.stdout.write(`${ms.toFixed(0)} ms, ${(data.length / 1e6 / (ms / 1000)).toFixed(0)} MB/s\n`);
}
