import { randomBytes } from 'node:crypto';
import { chmodSync, createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { parseSize } from '@dataharvest/local/cli/sizes';
import { startPostgres } from '@dataharvest/local/cloud/emulators/postgres';
import { generate } from '@dataharvest/local/generate/index';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import { chunkStaging } from '@dataharvest/shared/db/chunk-tables';
import { loadSlice } from '@dataharvest/shared/load/slice-loader';
import { partitionName } from '@dataharvest/shared/load/slice-table';
import { applyDdl, transaction } from '@dataharvest/shared/pg';
import { settleUpload } from '../../services/loader/src/settle';
import { planChunks } from '../../services/persistence/src/chunk-plan';
import { chunkDescriptors, openUpload } from '../../services/persistence/src/chunker';
import type { ChunkDone, ChunkJob } from './chunk-loader.worker';

/**
 * `npm run bench:chunked -- [--rows N] [--chunk-size 64MiB] [--loaders N] [--reps R] [--json]`
 *
 * The chunked path's own work against the single path's, in one run on one PostgreSQL: the single path's load of a
 * generated transactions file (`loadSlice`, as persistence runs it), against the chunker's plan, `--loaders`
 * connections loading its chunks side by side (`ChunkTable` and the same validator, as each loader runs them) and
 * the settling transaction. Both read the file from disk, as `npm run bench` does, so that what is compared is the
 * load and not the local S3 emulator's share of the cores (the end-to-end figures through the local cloud are
 * `npm run bench -- --chunked`). Each loader is a worker thread with its connection (chunk-loader.worker.ts), as
 * each is a sandbox of its own on Lambda. Alternating runs; medians.
 */
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    'chunk-size': { type: 'string', default: '64MiB' },
    loaders: { type: 'string', default: String(availableParallelism()) },
    reps: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows),
  loaders = Number(values.loaders),
  reps = Number(values.reps),
  chunkSize = parseSize(values['chunk-size'], '--chunk-size');
if (![rows, loaders, reps].every((n) => Number.isInteger(n) && n > 0)) {
  process.stderr.write('usage: bench:chunked [--rows N] [--chunk-size 64MiB] [--loaders N] [--reps R] [--json]\n');
  process.exit(2);
}
const file = join('.dataharvest', 'bench', `transactions_${rows}_1.csv`);
if (!existsSync(file)) await generate({ type: 'transactions', rows, seed: 1, out: file });
const size = statSync(file).size;
const slice = { type: 'transactions' as const, client: 'BENCH', batchDate: '20200130' };
const fileRange = async (start: number, end: number) => createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 });

async function single(db: pg.Client): Promise<void> {
  const result = await loadSlice(db, slice, createReadStream(file, { highWaterMark: 1 << 20 }));
  if (!result.loaded || result.rows !== rows) throw new Error(`the single path refused the file: ${JSON.stringify(result.errors.slice(0, 3))}`);
}

async function chunked(db: pg.Client, workers: Worker[]): Promise<number> {
  const plan = (await planChunks(fileRange, size, chunkSize))!;
  const id = randomBytes(20).toString('hex');
  await transaction(db, (tx) => openUpload(tx, slice, id, plan.chunks.length));
  const header = await fileRange(plan.header.start, plan.header.end).then(async (r) => Buffer.concat(await r.toArray()));
  const upload = { bucket: 'bench', key: file, version: 'bench', etag: 'bench', size, slice, lenient: false };
  const descriptors = chunkDescriptors(upload, id, plan, header);
  const staging = chunkStaging(partitionName(slice), id);
  const queue = [...descriptors];
  // Each worker takes the next chunk when done with its last, as a free Lambda container would.
  await Promise.all(
    workers.map(async (worker) => {
      for (let descriptor = queue.shift(); descriptor; descriptor = queue.shift()) {
        const done = await ask(worker, { descriptor, staging, file });
        if (!done.loaded) throw new Error(`chunk ${done.index} refused: ${JSON.stringify(done.errors)}`);
      }
    }),
  );
  const settled = await transaction(db, (tx) => settleUpload(tx, descriptors.at(-1)!));
  if (settled?.state !== 'PERSISTED' || settled.rows !== rows) throw new Error(`the chunked load did not settle: ${JSON.stringify(settled)}`);
  return plan.chunks.length;
}

/** A loader: a thread of its own (TypeScript through tsx, as this script runs), once it has connected. */
async function startLoader(url: string): Promise<Worker> {
  const entry = JSON.stringify(new URL('./chunk-loader.worker.ts', import.meta.url).href);
  const worker = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${entry}); })`, { eval: true, workerData: { url } });
  await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  return worker;
}

const ask = (worker: Worker, job: ChunkJob) =>
  new Promise<ChunkDone>((resolve, reject) => {
    worker.once('message', resolve).once('error', reject);
    worker.postMessage(job);
  });

const checksum = async (db: pg.Client) =>
  (await db.query<{ rows: string; md5: string }>(`SELECT count(*) AS rows, md5(string_agg(md5(t::text), '' ORDER BY record_id)) AS md5 FROM ${partitionName(slice)} t`)).rows[0]!;
const seconds = async (fn: () => Promise<unknown>) => {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
};

const dir = mkdtempSync(join(tmpdir(), 'dataharvest-bench-chunked-'));
chmodSync(dir, 0o755); // embedded PostgreSQL runs as `postgres` when we are root
const postgres = await startPostgres(dir, false, () => undefined);
const db = new pg.Client({ connectionString: postgres.url });
const workers: Worker[] = [];
const times = { single: [] as number[], chunked: [] as number[] };
let chunks = 0;
const sums: Array<{ rows: string; md5: string }> = [];
try {
  await db.connect();
  await applyDdl(db, BASE_TABLES_DDL);
  for (let i = 0; i < loaders; i++) workers.push(await startLoader(postgres.url));
  for (let i = 0; i < reps; i++) {
    times.single.push(await seconds(() => single(db)));
    if (i === reps - 1) sums.push(await checksum(db));
    times.chunked.push(
      await seconds(async () => {
        chunks = await chunked(db, workers);
      }),
    );
    if (i === reps - 1) sums.push(await checksum(db));
  }
} finally {
  for (const worker of workers) worker.postMessage('end');
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  await db.end();
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 1000) / 1000;
const line = {
  rows,
  bytes: size,
  chunks,
  loaders,
  single_seconds: round(median(times.single)),
  chunked_seconds: round(median(times.chunked)),
  speedup: round(median(times.single) / median(times.chunked)),
  rows_equal: sums[0]!.rows === sums[1]!.rows && Number(sums[0]!.rows) === rows,
  checksum_equal: sums[0]!.md5 === sums[1]!.md5,
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
};
process.stdout.write(
  values.json
    ? `${JSON.stringify(line)}\n`
    : `${rows} rows: single path ${line.single_seconds}s, chunked ${line.chunked_seconds}s (${chunks} chunks, ${loaders} loaders): ${line.speedup}×; same rows ${line.rows_equal}, same checksum ${line.checksum_equal}\n`,
);
