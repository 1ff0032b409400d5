import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { FILE_TYPES } from '@dataharvest/events/batch';
import { type Connection, connectCloud, ingestBucket } from '../local/src/cli/connection';
import { startCloud, type LocalCloud } from '../local/src/cloud/index';
import { generate } from '../local/src/generate/index';
import { partitionName } from '@dataharvest/shared/load/slice-table';
import { lenientPersistence } from './support/lenient';
import { memoryDir } from '../local/src/cloud/emulators/memory-dir';

/**
 * Faults on the chunked path, through real events: loaders losing their connection mid-COPY (PostgreSQL terminates
 * the session, as when a loader is killed), then every chunk delivered again. Each time the slice holds exactly the
 * file's rows: none lost, none twice.
 */
const CLIENT = 'FAULTY';
const DATE = '20200130';
const ROWS = 40_000;
/** The batch's accounts, clients and portfolios: a few, loaded whole; the transactions file is the one in chunks. */
const HOLDERS = 100;

describe('the chunked path under faults', () => {
  const dir = memoryDir('dataharvest-chunk-faults-');
  let cloud: LocalCloud;
  let on: Connection;
  let db: pg.Client;
  beforeAll(async () => {
    cloud = await startCloud({ parameters: { ChunkSize: String(256 * 1024) } });
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

  /** Puts every descriptor of the chunk stream on it once more, as Kinesis may. */
  const redeliverChunks = async () => {
    const stream = cloud.exports[`dataharvest-${cloud.stage}-chunk-stream`]!;
    const { kinesis } = on.aws;
    const records = [];
    for (const shard of (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? []) {
      const it = await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator! }));
      records.push(...(out.Records ?? []).map((r) => ({ Data: r.Data!, PartitionKey: r.PartitionKey! })));
    }
    await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
    return records.length;
  };

  it('loads every row once though loaders die mid-chunk, and again when every chunk is redelivered', async () => {
    const files = join(dir, 'files');
    for (const type of FILE_TYPES) await generate({ type, rows: type === 'transactions' ? ROWS : HOLDERS, seed: 9, client: CLIENT, accounts: HOLDERS, out: join(files, `${type}_${DATE}.csv`) });
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
    expect(await redeliverChunks()).toBeGreaterThan(4);
    await cloud.idle({ quietMs: 1000, timeoutMs: 120_000 });
    expect(await slice()).toEqual(first);
    const after = await on.metastore.getBatch(CLIENT, DATE);
    expect(after).toMatchObject({ stage: 'COMPLETE', generation });
  }, 600_000);

  it('settles a refused file once though deliveries race to settle it, cross-chunk duplicates included', async () => {
    const date = '20200131';
    const path = (type: string) => join(dir, 'files', `${type}_${date}.csv`);
    const upload = (type: string, records: string[]) => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: `incoming/${CLIENT}/${type}_${date}.csv`, Body: records.join('\n') }));
    for (const type of ['clients', 'accounts'] as const) await generate({ type, rows: ROWS, seed: 9, client: CLIENT, accounts: ROWS, out: path(type) });
    // The last client takes the first one's id: the two are chunks apart, and only the settling step can see it.
    const clients = readFileSync(path('clients'), 'utf8').split('\n');
    clients[ROWS] = clients[ROWS]!.replace(/^\d+,/, '1,');
    // Accounts in reverse id order, too scattered for a chunk to keep as runs; the first takes the last one's id.
    const [header, ...accounts] = readFileSync(path('accounts'), 'utf8').split('\n').filter(Boolean);
    accounts.reverse();
    accounts[0] = accounts[0]!.replace(/^\d+,/, '1,');
    await upload('accounts', [header!, ...accounts]);

    // The clients file's settling waits at its partition's lock, held here once the chunker has made the upload:
    // the delivery that completes the count waits there, and so do the deliveries of every chunk again.
    const partition = partitionName({ type: 'clients', client: CLIENT, batchDate: date });
    const lock = new pg.Client({ connectionString: cloud.postgresUrl });
    await lock.connect();
    const until = async (what: string, done: () => Promise<boolean>) => {
      for (const started = Date.now(); !(await done()); await new Promise((r) => setTimeout(r, 10))) if (Date.now() - started > 120_000) throw new Error(`never ${what}`);
    };
    const clientsUpload = async () =>
      (
        await lock.query<{ state: string }>('SELECT state FROM chunk_uploads WHERE partition = $1', [partition]).catch((error: { code?: string }) => {
          if (error.code === '42P01') return { rows: [] }; // the chunker has not made its tables yet
          throw error;
        })
      ).rows[0];
    const waiting = async () => (await lock.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0]!.n;
    try {
      await upload('clients', clients);
      await until('made the upload', async () => (await clientsUpload()) !== undefined);
      await lock.query('SELECT pg_advisory_lock(hashtext($1))', [partition]);
      expect(await clientsUpload()).toMatchObject({ state: 'LOADING' });
      await until('waited to settle', async () => (await waiting()) >= 1);
      await redeliverChunks();
      await until('waited twice to settle', async () => (await waiting()) >= 2);
    } finally {
      await lock.end();
    }
    await cloud.idle({ quietMs: 1000, timeoutMs: 120_000 });

    const refused = (await on.metastore.getBatch(CLIENT, date))!.files;
    expect(refused.clients).toMatchObject({
      status: 'REJECTED',
      rows: 0,
      errors: [expect.objectContaining({ column: 'record_id', reason: expect.stringMatching(/^duplicate record_id 1: in chunks 0, \d+ of the file$/) })],
    });
    expect(refused.accounts).toMatchObject({
      status: 'REJECTED',
      rows: 0,
      errors: [expect.objectContaining({ column: 'record_id', reason: 'duplicate record_id 1: in more than one chunk of the file' })],
    });
    for (const file of [refused.clients!, refused.accounts!]) expect(file.chunks!.total).toBeGreaterThan(1);
  }, 300_000);

  it("keeps a lenient client's valid rows of every chunk, each bad row reported at its line of the file", async () => {
    const client = 'LENIENT_CHUNKS';
    await cloud.deploy(lenientPersistence(join(dir, 'lenient'), client));
    const file = join(dir, 'files', 'transactions_lenient.csv');
    await generate({ type: 'transactions', rows: ROWS, seed: 3, client, accounts: ROWS, out: file });
    const lines = readFileSync(file, 'utf8').split('\n');
    // Records in the first chunk, the middle and the last: amounts that are not money.
    const bad = [5, 20_000, 39_000];
    // The middle one with a NUL byte, which its rejected row keeps.
    for (const i of bad) lines[i] = lines[i]!.replace(/,(-?\d+\.\d\d),/, i === 20_000 ? ',12\u00005,' : ',12.5x,');
    await on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: `incoming/${client}/transactions_${DATE}.csv`, Body: lines.join('\n') }));
    await cloud.idle({ quietMs: 1000, timeoutMs: 120_000 });
    const detail = (await on.metastore.getBatch(client, DATE))!.files.transactions!;
    expect(detail).toMatchObject({ status: 'PERSISTED', rows: ROWS - bad.length, rejected_rows: bad.length });
    expect(detail.chunks!.total).toBeGreaterThan(4);
    expect(detail.errors.map((e) => [e.line, e.column])).toEqual(bad.map((i) => [i + 1, 'amount']));
    const rejects = await db.query<{ line: number; raw: Buffer }>('SELECT line, raw FROM rejects WHERE client = $1 ORDER BY line', [client]);
    expect(rejects.rows).toEqual(bad.map((i) => ({ line: i + 1, raw: Buffer.from(`${lines[i]}\n`) })));
    const loaded = await db.query<{ rows: string; ids: string }>('SELECT count(*) AS rows, count(DISTINCT record_id) AS ids FROM transactions WHERE client = $1', [client]);
    expect(loaded.rows[0]).toEqual({ rows: String(ROWS - bad.length), ids: String(ROWS - bad.length) });
  }, 300_000);
});
