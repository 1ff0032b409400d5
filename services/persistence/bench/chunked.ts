import { chmodSync, createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connectCloud, ingestBucket } from '@dataharvest/local/cli/connection';
import { Upload } from '@aws-sdk/lib-storage';
import { objectKey } from '@dataharvest/events/object-key';
import { startCloud } from '@dataharvest/local/cloud/index';
import { partitionName } from '@dataharvest/shared/load/slice-table';

/** One load of the file through the local cloud: its time from the upload's end to the file's record, and its content. */
export interface CloudLoad {
  seconds: number;
  rows: number;
  checksum: string;
  chunks: number;
  /** The largest peak RSS any chunk loader reported (0 on the single path). */
  peakLoaderRssMb: number;
}

const CLIENT = 'BENCH';
/** Longer than any load should take on this machine (a Lambda times out at 900 s). */
const SETTLE_LIMIT_S = 900;
const slice = { type: 'transactions' as const, client: CLIENT, batchDate: '20200130' };

/**
 * Starts a local cloud whose ChunkSize parameter is `chunkSize`, uploads the file and waits for persistence (single
 * path) or the chunk loaders (chunked) to settle it. The clock starts when the upload is complete, as S3's event does.
 */
export async function loadThroughCloud(file: string, chunkSize: number): Promise<CloudLoad> {
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
  try {
    const on = connectCloud(cloud);
    const key = objectKey(CLIENT, `transactions_${slice.batchDate}.csv`);
    await new Upload({ client: on.aws.s3, params: { Bucket: ingestBucket(on.deployment), Key: key, Body: createReadStream(file) }, partSize: 8 << 20, queueSize: 2 }).done();
    const started = process.hrtime.bigint();
    let detail = (await on.metastore.getBatch(CLIENT, slice.batchDate))?.files.transactions;
    while (detail?.status !== 'PERSISTED' && detail?.status !== 'REJECTED') {
      if (process.hrtime.bigint() - started > BigInt(SETTLE_LIMIT_S * 1e9)) throw new Error(`the file did not settle within ${SETTLE_LIMIT_S} s: see ${logFile}`);
      await new Promise((r) => setTimeout(r, 50));
      detail = (await on.metastore.getBatch(CLIENT, slice.batchDate))?.files.transactions;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (detail.status !== 'PERSISTED') throw new Error(`the file was refused: ${JSON.stringify(detail.errors.slice(0, 3))}`);
    const db = new pg.Client({ connectionString: cloud.postgresUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ rows: string; checksum: string }>(`SELECT count(*) AS rows, md5(string_agg(md5(t::text), '' ORDER BY record_id)) AS checksum FROM ${partitionName(slice)} t`);
      return { seconds, rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum, chunks: detail.chunks?.total ?? 1, peakLoaderRssMb };
    } finally {
      await db.end();
    }
  } finally {
    await cloud.stop();
    logs.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
