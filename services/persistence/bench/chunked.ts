import { chmodSync, createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { HeadObjectCommand, NotFound } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { connectCloud, ingestBucket, type Connection } from '@dataharvest/local/cli/connection';
import { objectKey } from '@dataharvest/events/object-key';
import { startCloud } from '@dataharvest/local/cloud/index';
import { partitionName, type Slice } from '@dataharvest/shared/load/slice-table';
import { rawCopy } from './raw-copy';

/** Loads of the file through one local cloud, each beside a raw COPY of it into the same PostgreSQL just before. */
export interface CloudLoads {
  /** Per load: from the upload's end to the moment its loader settled the file. The first load starts cold. */
  seconds: number[];
  /** Per load: the raw COPY run just before it. */
  rawCopySeconds: number[];
  /** Rows and an ordered md5 of the first load's slice. */
  rows: number;
  checksum: string;
  chunks: number;
  /** The largest peak RSS any chunk loader reported (0 on the single path). */
  peakLoaderRssMb: number;
}

const CLIENT = 'BENCH';
/** Longer than any load should take on this machine (a Lambda times out at 900 s). */
const SETTLE_LIMIT_S = 900;
/** The i-th load's slice: a batch date of its own, so that no load finds the same bytes already loaded. */
const sliceOf = (i: number): Slice => ({ type: 'transactions', client: CLIENT, batchDate: new Date(Date.UTC(2020, 0, 30 + i)).toISOString().slice(0, 10).replaceAll('-', '') });

/**
 * Starts a local cloud whose ChunkSize parameter is `chunkSize` and loads the file `reps` times: each time a raw COPY
 * of the file into the cloud's PostgreSQL (the same server and moment as the load it is compared with, on a machine
 * whose speed drifts), then an upload, timed from its end (when S3's event is sent) until persistence (single path)
 * or the last chunk loader (chunked) settled the file, by the time the file's record names (`at`), and the next load
 * waits until the object has left incoming/ (its move to archive/ would otherwise overlap the next raw COPY). The
 * record is polled only twice a second: polled every 50 ms, the reads took the machine's cores from the load.
 */
export async function loadsThroughCloud(file: string, chunkSize: number, reps: number): Promise<CloudLoads> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dataharvest-bench-cloud-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as `postgres`, who must enter the data dir
  let peakLoaderRssMb = 0;
  // The functions' logs, for when a load does not settle.
  const logFile = join('.dataharvest', 'bench', `cloud-${chunkSize}.log`);
  const logs = createWriteStream(logFile);
  const cloud = await startCloud({
    dataDir,
    parameters: { ChunkSize: String(chunkSize) },
    log: (line) => {
      logs.write(`${line}\n`);
      const rss = /"message":"chunk handled".*"peak_rss_mb":([\d.]+)/.exec(line)?.[1];
      if (rss) peakLoaderRssMb = Math.max(peakLoaderRssMb, Number(rss));
    },
  });
  const db = new pg.Client({ connectionString: cloud.postgresUrl });
  try {
    await db.connect();
    const on = connectCloud(cloud);
    const loads = { seconds: [] as number[], rawCopySeconds: [] as number[], chunks: 1 };
    for (let i = 0; i < reps; i++) {
      loads.rawCopySeconds.push(await rawCopy(db, file, sliceOf(i)));
      const { seconds, chunks } = await loadOnce(on, file, sliceOf(i), logFile);
      loads.seconds.push(seconds);
      loads.chunks = chunks;
    }
    const sql = `SELECT count(*) AS rows, md5(string_agg(md5(t::text), '' ORDER BY record_id)) AS checksum FROM ${partitionName(sliceOf(0))} t`;
    const { rows } = await db.query<{ rows: string; checksum: string }>(sql);
    return { ...loads, rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum, peakLoaderRssMb };
  } finally {
    await db.end();
    await cloud.stop();
    logs.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function loadOnce(on: Connection, file: string, slice: Slice, logFile: string): Promise<{ seconds: number; chunks: number }> {
  const bucket = ingestBucket(on.deployment);
  const key = objectKey(CLIENT, `transactions_${slice.batchDate}.csv`);
  await new Upload({ client: on.aws.s3, params: { Bucket: bucket, Key: key, Body: createReadStream(file) }, partSize: 8 << 20, queueSize: 2 }).done();
  const started = Date.now();
  const wait = async () => {
    if (Date.now() - started > SETTLE_LIMIT_S * 1000) throw new Error(`the file did not settle within ${SETTLE_LIMIT_S} s: see ${logFile}`);
    await new Promise((r) => setTimeout(r, 500));
  };
  let detail = (await on.metastore.getBatch(CLIENT, slice.batchDate))?.files.transactions;
  while (detail?.status !== 'PERSISTED' && detail?.status !== 'REJECTED') {
    await wait();
    detail = (await on.metastore.getBatch(CLIENT, slice.batchDate))?.files.transactions;
  }
  // The functions run on this machine's clock.
  const seconds = (Date.parse(detail.at) - started) / 1000;
  if (detail.status !== 'PERSISTED') throw new Error(`the file was refused: ${JSON.stringify(detail.errors.slice(0, 3))}`);
  while (await stillIncoming(on, bucket, key)) await wait();
  return { seconds, chunks: detail.chunks?.total ?? 1 };
}

const stillIncoming = (on: Connection, bucket: string, key: string) =>
  on.aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (error: unknown) => {
      if (error instanceof NotFound) return false;
      throw error;
    },
  );
