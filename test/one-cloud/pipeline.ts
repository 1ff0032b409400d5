import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import type { LocalCloud } from '../../local/src/cloud/index';
import { sharedCloud } from '../support/shared-cloud';
import { announceCloud, type Connection, connectCloud, eventsStream, ingestBucket } from '../../local/src/cli/connection';
import { latestForBatch, readOutputEvents } from '../../local/src/cli/output-events';
import { LINEAGE_FILE } from '../../local/src/cloud/emulators/services';
import type { RunEvent } from '../../shared/src/openlineage';
import { openLineageProblems } from '../support/openlineage';
import { s3Event } from '../support/s3-event';

const SAMPLE = 'examples/sample-batch';
const sampleFiles = readdirSync(SAMPLE).sort();

/** The four base tables as PostgreSQL holds them: what "the same content" means across runs. */
async function baseTables(url: string) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const out: Record<string, unknown[]> = {};
    for (const t of ['accounts', 'clients', 'portfolios', 'transactions']) {
      out[t] = (await db.query(`SELECT * FROM ${t} WHERE client = 'EXT_CLIENT' ORDER BY record_id`)).rows;
    }
    return out;
  } finally {
    await db.end();
  }
}

/** The clients and metastore the CLI would use on the test's cloud. */
let on: Connection;

async function waitForStage(stage: string, generation: number, client = 'EXT_CLIENT', batchDate = '20200130', timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const batch = await on.metastore.getBatch(client, batchDate);
    if (batch?.stage === stage && batch.generation === generation) return batch;
    if (Date.now() > until) throw new Error(`batch ${client}/${batchDate} stuck at ${batch?.stage} (generation ${batch?.generation}), waiting for ${stage}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the sample batch through real events: S3 → persistence → metastore → transformers → catapult → Kinesis', () => {
  let cloud: LocalCloud;
  const upload = (name: string, body: Buffer | string, client = 'EXT_CLIENT') => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: `incoming/${client}/${name}`, Body: body }));

  beforeAll(async () => {
    cloud = await sharedCloud();
    on = connectCloud(cloud);
  });

  it('reaches COMPLETE and publishes one event per portfolio, with figures checkable by hand', async () => {
    for (const f of sampleFiles) await upload(f, readFileSync(join(SAMPLE, f)));
    const batch = await waitForStage('COMPLETE', 1);
    expect(Object.values(batch.files).map((f) => [f.status, f.rows])).toEqual(Array(4).fill(['PERSISTED', 2]));
    expect(batch.events_published).toBe(2);

    const events = latestForBatch(await readOutputEvents(on.aws.kinesis, eventsStream(cloud)), 'EXT_CLIENT', '20200130');
    const frida = events.find((e) => e.portfolio_reference === '90755e32-7438-4354-ad37-ad900e297844');
    const fritz = events.find((e) => e.portfolio_reference === '439695b4-508d-4562-8576-670e70024627');
    expect(frida).toMatchObject({
      version: 1,
      account_number: '12345678',
      client_reference: '9e40659b-8b9f-4fc4-814b-5a7b5a23b64d',
      deposits_total: '5000.00',
      transaction_count: 1,
      net_amount: '5000.00',
      tax_free_allowance: '801.00',
      taxes_paid: '0.00',
      tax_transactions_total: '0.00',
    });
    expect(fritz).toMatchObject({
      version: 1,
      account_number: '12345679',
      client_reference: 'f4a0cc2c-d0b4-4f14-b202-c8a5e45e90e7',
      deposits_total: '0.00',
      transaction_count: 1,
      net_amount: '-789.56',
      tax_free_allowance: '0.00',
      taxes_paid: '789.56',
      tax_transactions_total: '-789.56',
    });

    // Lineage: each event names the four files as uploaded (their SHA-256 is the example files'), the lines of its
    // portfolio's rows in each (Frida's are the first record of every file, Fritz's the second), and the code digests.
    const sha256 = (f: string) =>
      createHash('sha256')
        .update(readFileSync(join(SAMPLE, f)))
        .digest('hex');
    const filesOf = (line: string) =>
      Object.fromEntries(
        sampleFiles.map((f) => [
          f.split('_')[0],
          { key: `incoming/EXT_CLIENT/${f}`, sha256: sha256(f), bytes: readFileSync(join(SAMPLE, f)).length, uploaded_at: expect.any(String), lines: line, lines_complete: true },
        ]),
      );
    const digest = expect.stringMatching(/^[0-9a-f]{64}$/);
    const steps = expect.objectContaining({ relationship: digest, deposit: digest, transaction: digest, tax: digest });
    expect(frida!.lineage).toEqual({ generation: 1, files: filesOf('2'), transformers: steps, quality_rules: digest });
    expect(fritz!.lineage).toEqual({ generation: 1, files: filesOf('3'), transformers: steps, quality_rules: digest });
    // The base tables keep each row's line, which the lineage is read from.
    expect((await baseTables(cloud.postgresUrl)).transactions!.map((r) => (r as { line: number }).line)).toEqual([2, 3]);

    // Every step reported its runs to the data dir's OpenLineage file, each event valid against the published schema.
    await cloud.idle();
    const runs = readFileSync(join(cloud.dataDir, LINEAGE_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    expect(openLineageProblems(runs)).toEqual([]);
    const seen = new Set(runs.map((r) => `${r.job.name} ${r.eventType}`));
    for (const job of ['persistence', 'relationship', 'deposit', 'transaction', 'tax', 'catapult']) for (const type of ['START', 'COMPLETE']) expect([...seen]).toContain(`${job} ${type}`);
    const persisted = runs.filter((r) => r.job.name === 'persistence' && r.eventType === 'COMPLETE').flatMap((r) => r.inputs);
    expect(persisted.map((d) => [d.name, d.facets?.version?.datasetVersion]).sort()).toEqual(sampleFiles.map((f) => [`incoming/EXT_CLIENT/${f}`, sha256(f)]));
  });

  it("lets each service's login touch only its tables: PostgreSQL refuses the transaction service the relationship's", async () => {
    // The login and secret the transaction service's own stack made (shared/database-access.json, "transformers").
    const secret = cloud.secrets.get(cloud.exports[`dataharvest-${cloud.stage}-db-transaction-secret-arn`]!)!;
    const { username, password } = JSON.parse(secret.value) as { username: string; password: string };
    const db = new pg.Client({
      host: cloud.postgres.host,
      port: cloud.postgres.port,
      database: 'dataharvest',
      user: username,
      password,
      ssl: { ca: readFileSync(cloud.postgres.caFile, 'utf8') },
    });
    await db.connect();
    try {
      // Its own results, and what it reads, as the first case computed them.
      expect((await db.query("SELECT count(*)::int AS n FROM portfolio_transaction_totals WHERE client = 'EXT_CLIENT'")).rows).toEqual([{ n: 2 }]);
      expect((await db.query("SELECT count(*)::int AS n FROM portfolio_links WHERE client = 'EXT_CLIENT'")).rows).toEqual([{ n: 2 }]);
      await expect(db.query("DELETE FROM portfolio_links WHERE client = 'EXT_CLIENT'")).rejects.toThrow('permission denied for table portfolio_links');
      await expect(db.query('SELECT count(*) FROM data_quality_issues')).rejects.toThrow('permission denied for table data_quality_issues');
      await expect(db.query('DROP TABLE client_taxes')).rejects.toThrow('must be owner of table client_taxes');
      // Another transformer's results are its own: not even readable.
      await expect(db.query('SELECT count(*) FROM client_taxes')).rejects.toThrow('permission denied for table client_taxes');
      // It owns the tables its DDL made (a transformer's login runs its DDL as itself).
      expect((await db.query("SELECT tableowner FROM pg_tables WHERE tablename = 'portfolio_transaction_totals'")).rows).toEqual([{ tableowner: username }]);
    } finally {
      await db.end();
    }
  });

  it('gives the same events whatever the arrival order, with every file uploaded twice', async () => {
    const client = 'ORDER_TEST';
    const reversed = [...sampleFiles].reverse();
    await Promise.all([...reversed, ...reversed].map((f) => upload(f, readFileSync(join(SAMPLE, f)), client)));
    await waitForStage('COMPLETE', 1, client);
    // The event_id names the client too, so it differs between the two clients like the client field itself.
    const figures = (c: string) =>
      readOutputEvents(on.aws.kinesis, eventsStream(cloud)).then((all) => latestForBatch(all, c, '20200130').map(({ client: _c, event_id: _id, published_at: _p, lineage: _l, ...rest }) => rest));
    expect(await figures(client)).toEqual(await figures('EXT_CLIENT'));
  });

  it('sends a later batch round again when an earlier one arrives after it: re-published with the running totals of a clean run', async () => {
    const client = 'LATE_CO';
    const sendBatch = (date: string) => Promise.all(sampleFiles.map((f) => upload(f.replace('20200130', date), readFileSync(join(SAMPLE, f)), client)));
    await sendBatch('20200131');
    await waitForStage('COMPLETE', 1, client, '20200131');
    await sendBatch('20200130');
    await waitForStage('COMPLETE', 1, client, '20200130');
    await waitForStage('COMPLETE', 2, client, '20200131');
    const frida = async (date: string) =>
      latestForBatch(await readOutputEvents(on.aws.kinesis, eventsStream(cloud)), client, date)
        .filter((e) => e.portfolio_reference === '90755e32-7438-4354-ad37-ad900e297844')
        .map((e) => [e.version, e.deposits_total, e.deposits_running_total]);
    expect(await frida('20200130')).toEqual([[1, '5000.00', '5000.00']]);
    expect(await frida('20200131')).toEqual([[2, '5000.00', '10000.00']]);
  });

  it('treats a duplicated S3 event as a no-op: same rows, same generation', async () => {
    const before = await baseTables(cloud.postgresUrl);
    const key = 'incoming/EXT_CLIENT/accounts_20200130.csv';
    const batch = await on.metastore.getBatch('EXT_CLIENT', '20200130');
    const etag = batch!.files.accounts!.etag!;
    const event = s3Event(ingestBucket(cloud), key, etag);
    const persistence = cloud.functions.find((f) => f.includes('persistence'))!;
    await cloud.invoke(persistence, event);
    await cloud.invoke(persistence, event);
    await cloud.idle();
    expect(await baseTables(cloud.postgresUrl)).toEqual(before);
    expect((await on.metastore.getBatch('EXT_CLIENT', '20200130'))!.generation).toBe(1);
  });

  it('archives a re-sent identical file without reloading it or starting a new generation', async () => {
    await upload('accounts_20200130.csv', readFileSync(join(SAMPLE, 'accounts_20200130.csv')));
    await cloud.idle();
    const listed = await on.aws.s3.send(new ListObjectsV2Command({ Bucket: ingestBucket(cloud), Prefix: 'incoming/EXT_CLIENT/' }));
    expect(listed.KeyCount ?? 0).toBe(0);
    expect(await on.metastore.getBatch('EXT_CLIENT', '20200130')).toMatchObject({ stage: 'COMPLETE', generation: 1 });
  });

  it('re-runs the chain for a corrected re-upload after COMPLETE, replacing results and publishing a higher version', async () => {
    const corrected = readFileSync(join(SAMPLE, 'transactions_20200130.csv'), 'utf8').replace('5000,DEPOSIT', '6000,DEPOSIT');
    await upload('transactions_20200130.csv', corrected);
    await waitForStage('COMPLETE', 2);
    const tables = await baseTables(cloud.postgresUrl);
    expect(tables.transactions).toHaveLength(2);
    expect(tables.transactions!.map((r) => (r as { amount: string }).amount)).toEqual(['6000', '-789.56'].map((a) => expect.stringMatching(new RegExp(`^${a}(\\.0+)?$`))));
    const events = latestForBatch(await readOutputEvents(on.aws.kinesis, eventsStream(cloud)), 'EXT_CLIENT', '20200130');
    expect(events.map((e) => [e.version, e.deposits_total])).toEqual([
      [2, '0.00'],
      [2, '6000.00'],
    ]);
    // The new version's lineage names the corrected upload, and the generation that loaded it.
    const correctedSha = createHash('sha256').update(corrected).digest('hex');
    expect(events.map((e) => [e.lineage?.generation, e.lineage?.files.transactions?.sha256])).toEqual([
      [2, correctedSha],
      [2, correctedSha],
    ]);
  });

  describe('dataharvest run', () => {
    // The runs use this cloud as they use the one `dataharvest up` runs on their data dir: no cloud of their own to
    // start, cold and stop twice (run-large and chunked-load run on a cloud of their own); a client of their own.
    const dataDir = mkdtempSync(join(tmpdir(), 'dataharvest-run-'));
    let forget = () => {};
    beforeAll(() => {
      forget = announceCloud(dataDir, cloud);
    });
    afterAll(() => {
      forget();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const cli = (...args: string[]) => promisify(execFile)('node', ['local/bin/dataharvest.mjs', 'run', SAMPLE, '--client', 'RUN_CO', '--data-dir', dataDir, ...args], { timeout: 240_000 });

    it('prints one JSON object with the batch COMPLETE, 2 rows per file, and exits 0; a second run changes nothing', async () => {
      const first = JSON.parse((await cli('--json')).stdout);
      expect(first).toMatchObject({ client: 'RUN_CO', batch_date: '20200130', stage: 'COMPLETE' });
      for (const type of ['accounts', 'clients', 'portfolios', 'transactions']) expect(first.files[type]).toEqual({ status: 'PERSISTED', rows: 2, errors: [] });
      for (const name of ['relationship', 'deposit', 'transaction', 'tax']) expect(first.transformers[name]).toEqual({ status: 'DONE', duration_ms: expect.any(Number) });
      expect(first.events).toHaveLength(2);

      const second = JSON.parse((await cli('--json')).stdout);
      expect(second.stage).toBe('COMPLETE');
      expect(second.events).toEqual(first.events);
      // A run on a cloud it did not start cannot wait for it to be idle: once it is, still the first generation.
      await cloud.idle();
      expect(await on.metastore.getBatch('RUN_CO', '20200130')).toMatchObject({ stage: 'COMPLETE', generation: 1 });
      expect(latestForBatch(await readOutputEvents(on.aws.kinesis, eventsStream(cloud)), 'RUN_CO', '20200130')).toEqual(first.events);
    });

    it('lineage traces a published event back to its files, lines, step versions and stage history', async () => {
      const [frida] = latestForBatch(await readOutputEvents(on.aws.kinesis, eventsStream(cloud)), 'RUN_CO', '20200130').filter((e) => e.portfolio_reference === '90755e32-7438-4354-ad37-ad900e297844');
      const lineage = (...args: string[]) => promisify(execFile)('node', ['local/bin/dataharvest.mjs', 'lineage', '--data-dir', dataDir, ...args]);
      const chain = JSON.parse((await lineage('--event-id', frida!.event_id, '--json')).stdout);
      expect(chain).toMatchObject({ event_id: frida!.event_id, client: 'RUN_CO', version: 1, lineage: frida!.lineage, batch: { stage: 'COMPLETE', generation: 1 } });
      expect(chain.lineage.files.transactions).toMatchObject({ key: 'incoming/RUN_CO/transactions_20200130.csv', lines: '2', line_numbers: [2] });
      expect(chain.batch.stage_history.map((s: { stage: string }) => s.stage)).toEqual(['PERSISTED', 'RELATED', 'TRANSFORMED', 'COMPLETE']);
      const text = (await lineage('--client', 'RUN_CO', '--date', '20200130', '--portfolio', frida!.portfolio_reference)).stdout;
      expect(text).toContain(`sha256 ${frida!.lineage!.files.accounts!.sha256}`);
      expect(text).toContain('stages: RECEIVING');
      await expect(lineage('--event-id', '00000000-0000-8000-8000-000000000000')).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining('no event') });
    });

    it('exits 2 on a usage error with a one-line reason', async () => {
      await expect(promisify(execFile)('node', ['local/bin/dataharvest.mjs', 'run', SAMPLE])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--client ID is required') });
    });
  });
});
