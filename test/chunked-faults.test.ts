import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { FILE_TYPES } from '@dataharvest/events/batch';
import { type Connection, connectCloud, ingestBucket } from '../local/src/cli/connection';
import { startCloud, type LocalCloud } from '../local/src/cloud/index';
import { generate } from '../local/src/generate/index';

/**
 * Faults on the chunked path, through real events: loaders losing their connection mid-COPY (PostgreSQL terminates
 * the session, as when a loader is killed), then every chunk delivered again. Each time the slice holds exactly the
 * file's rows: none lost, none twice.
 */
const CLIENT = 'FAULTY';
const DATE = '20200130';
const ROWS = 40_000;

describe('the chunked path under faults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dataharvest-chunk-faults-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as `postgres`, who must enter the data dir
  let cloud: LocalCloud;
  let on: Connection;
  let db: pg.Client;
  beforeAll(async () => {
    cloud = await startCloud({ dataDir: join(dir, 'cloud'), parameters: { ChunkSize: String(256 * 1024) } });
    on = connectCloud(cloud);
    db = new pg.Client({ connectionString: cloud.postgresUrl });
    await db.connect();
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await cloud?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What the transactions slice holds, and what the file says it should. */
  const slice = async () =>
    (
      await db.query<{ rows: string; ids: string; checksum: string }>(
        `SELECT count(*) AS rows, count(DISTINCT record_id) AS ids, md5(string_agg(md5(t::text), '' ORDER BY record_id)) AS checksum FROM transactions t WHERE client = $1`,
        [CLIENT],
      )
    ).rows[0]!;
  const settled = async () => {
    for (;;) {
      const batch = await on.metastore.getBatch(CLIENT, DATE);
      if (batch?.stage === 'COMPLETE' || batch?.stage === 'FAILED' || batch?.stage === 'REJECTED') return batch;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('loads every row once though loaders die mid-chunk, and again when every chunk is redelivered', async () => {
    const files = join(dir, 'files');
    for (const type of FILE_TYPES) await generate({ type, rows: ROWS, seed: 9, client: CLIENT, accounts: ROWS, out: join(files, `${type}_${DATE}.csv`) });
    // Kill the first three chunk COPYs that PostgreSQL sees, wherever they are in their range.
    let killed = 0;
    let generation = -1;
    const killer = setInterval(async () => {
      if (killed >= 3) return;
      const { rows } = await db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE query LIKE 'COPY transactions_%_c%' AND state = 'active'");
      for (const { pid } of rows.slice(0, 3 - killed)) if ((await db.query('SELECT pg_terminate_backend($1) AS ok', [pid])).rows[0].ok) killed++;
    }, 20);
    try {
      for (const type of FILE_TYPES) {
        const key = `incoming/${CLIENT}/${type}_${DATE}.csv`;
        await on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: key, Body: readFileSync(join(files, `${type}_${DATE}.csv`)) }));
      }
      const batch = await settled();
      generation = batch.generation;
      expect(batch.stage).toBe('COMPLETE');
      expect(batch.files.transactions!.chunks!.total).toBeGreaterThan(4);
    } finally {
      clearInterval(killer);
    }
    expect(killed).toBeGreaterThan(0);
    const first = await slice();
    expect(first).toMatchObject({ rows: String(ROWS), ids: String(ROWS) });

    // Every descriptor of the chunk stream delivered once more: nothing changes.
    const stream = cloud.exports[`dataharvest-${cloud.stage}-chunk-stream`]!;
    const { kinesis } = on.aws;
    const records = [];
    for (const shard of (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? []) {
      const it = await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator! }));
      records.push(...(out.Records ?? []).map((r) => ({ Data: r.Data!, PartitionKey: r.PartitionKey! })));
    }
    expect(records.length).toBeGreaterThan(4);
    await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
    await cloud.idle({ quietMs: 1000, timeoutMs: 120_000 });
    expect(await slice()).toEqual(first);
    const after = await on.metastore.getBatch(CLIENT, DATE);
    expect(after).toMatchObject({ stage: 'COMPLETE', generation });
  }, 600_000);
});
