import { readFileSync } from 'node:fs';
import { CsvValidator } from '../src/csv-validator';
const data = readFileSync('/tmp/t1m.csv');
const chunks: Buffer[] = []; for (let i = 0; i < data.length; i += 1 << 20) chunks.push(data.subarray(i, i + (1 << 20)));
for (let r = 0; r < 6; r++) {
  const v = new CsvValidator('transactions');
  const t = performance.now();
  for (const c of chunks) v.push(c);
  v.end();
  console.log('validate', (performance.now() - t).toFixed(0), 'ms', v.rows, v.errorCount);
}
