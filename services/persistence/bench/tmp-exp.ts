import { chmodSync, createReadStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startPostgres } from '@dataharvest/local/cloud/postgres';
import { CsvValidator } from '../src/csv-validator';
import { CopySink } from '../src/copy-sink';
const tmp = mkdtempSync(join(tmpdir(), 'x-')); chmodSync(tmp, 0o755);
const postgres = await startPostgres(tmp, false, () => undefined);
const db = new pg.Client({ connectionString: postgres.url }); await db.connect();
const cols = 'client text NOT NULL DEFAULT \'B\', batch_date date NOT NULL DEFAULT \'2020-01-30\', record_id integer NOT NULL, account_number text NOT NULL, transaction_reference text NOT NULL, amount numeric(17,2) NOT NULL, keyword text NOT NULL';
async function run(name: string, check: boolean, validate: boolean, hash: boolean, hwm: number, copyHwm = 16384) {
  const t = performance.now();
  await db.query('BEGIN'); await db.query('DROP TABLE IF EXISTS x');
  await db.query(`CREATE TABLE x (${cols}${check ? ", CHECK (client = 'B' AND batch_date = '2020-01-30')" : ''})`);
  const sink = new CopySink(db.query(copyFrom('COPY x (record_id, account_number, transaction_reference, amount, keyword) FROM STDIN WITH (FORMAT csv, HEADER true)', { highWaterMark: copyHwm })));
  const v = new CsvValidator('transactions'); const h = createHash('sha256');
  let vt = 0;
  for await (const c of createReadStream('/tmp/t1m.csv', { highWaterMark: hwm })) {
    const s = performance.now();
    if (hash) h.update(c as Buffer);
    if (validate) v.push(c as Buffer);
    vt += performance.now() - s;
    await sink.write(c as Buffer);
  }
  const ce = performance.now();
  await sink.end(); await db.query('COMMIT');
  console.log(name, (performance.now() - t).toFixed(0), 'ms; node work', vt.toFixed(0), 'tail after last write', (performance.now() - ce).toFixed(0));
}
for (let i = 0; i < 3; i++) {
  await run('raw        ', false, false, false, 1 << 20);
  await run('valid+hash ', true, true, true, 1 << 20);
  await run('raw 4M     ', false, false, false, 1 << 20, 4 << 20);
  await run('valid 4M   ', true, true, true, 1 << 20, 4 << 20);
  await run('valid 64k 4M', true, true, true, 1 << 16, 4 << 20);
}
await db.end(); await postgres.stop();
