import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, paginateListObjectsV2, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { createErasures } from '@dataharvest/shared/erasures';
import { type Connection, connectCloud, eventsStream, ingestBucket, metastoreTable } from '../local/src/cli/connection';
import type { FailuresListing } from '../local/src/cli/failures';
import { readOutputEvents } from '../local/src/cli/output-events';
import { type LocalCloud, startCloud } from '../local/src/cloud/index';
import { FRIDA, FRITZ } from './support/chain';
import { memoryDir } from '../local/src/cloud/emulators/memory-dir';

const SAMPLE = 'examples/sample-batch';
const CLIENT = 'FORGET_CO';
/** Everything that names Frida: her reference, portfolio, account and names (she marries on the second batch). */
const HER = [FRIDA.client, FRIDA.portfolio, FRIDA.account, 'Frida', 'Müller', 'Schmidt'];
/** The batch after the refused one: the sample again, Frida under her new name. */
const RENAMED = '20200203';
const holdsHer = (text: string) => HER.filter((v) => text.toLowerCase().includes(v.toLowerCase()));
/** Everything that names Fritz. */
const HIM = [FRITZ.client, FRITZ.portfolio, FRITZ.account, 'Fritz', 'Maier'];
/** S3's single-copy limit, lowered: every file here is larger, so it is archived, quarantined and erased in parts. */
const COPY_LIMIT = 32;
/** The ETag of an object assembled from parts: `"<md5 of the parts' md5s>-<parts>"`. */
const MULTIPART = /^"?[0-9a-f]{32}-\d+"?$/;

/**
 * `dataharvest forget` end to end on the local cloud: the sample batch loaded and published, a headerless clients
 * file of a later date refused (so that errors/ and quarantine/ hold Frida), the sample again with Frida renamed (so
 * that the history holds two versions of her), then Frida forgotten through the CLI.
 */
describe('dataharvest forget', () => {
  let cloud: LocalCloud;
  let on: Connection;
  const dataDir = memoryDir('dataharvest-forget-');
  const upload = (key: string, body: Buffer | string) => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(on.deployment), Key: key, Body: body }));
  const waitFor = async (batchDate: string, done: (b: { stage: string; generation: number }) => boolean) => {
    // Generous: a re-run sends several batches through every step, and CI machines are slower than this one.
    for (const until = Date.now() + 180_000; Date.now() < until; ) {
      const batch = await on.metastore.getBatch(CLIENT, batchDate);
      if (batch && done(batch as never)) return batch;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`batch ${CLIENT}/${batchDate} did not settle`);
  };
  const withoutAws = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'METASTORE_TABLE'));
  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const env = {
        ...withoutAws,
        ...Object.fromEntries(Object.entries(cloud.env).filter(([k]) => k.startsWith('AWS_ENDPOINT_URL_'))),
        AWS_ACCESS_KEY_ID: cloud.env.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: cloud.env.AWS_SECRET_ACCESS_KEY,
      };
      execFile('node', ['local/bin/dataharvest.mjs', ...args, '--stage', 'dev', '--region', 'eu-central-1', '--data-dir', dataDir], { env, timeout: 120_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  /** Every object's text, but for the key left out (one S3 will not read). */
  const objects = async (except?: string) => {
    const out: Record<string, string> = {};
    for await (const page of paginateListObjectsV2({ client: on.aws.s3 }, { Bucket: ingestBucket(on.deployment) })) {
      for (const { Key } of page.Contents ?? []) {
        if (Key === except) continue;
        const body = await on.aws.s3.send(new GetObjectCommand({ Bucket: ingestBucket(on.deployment), Key }));
        out[Key!] = await body.Body!.transformToString('utf8');
      }
    }
    return out;
  };
  const etags = async () => {
    const out: Record<string, { etag: string; size: number }> = {};
    for await (const page of paginateListObjectsV2({ client: on.aws.s3 }, { Bucket: ingestBucket(on.deployment) })) {
      for (const { Key, ETag, Size } of page.Contents ?? []) out[Key!] = { etag: ETag!, size: Size! };
    }
    return out;
  };
  /** Every row of every table, as PostgreSQL prints it, that holds one of the values (Frida's by default). */
  const rowsNamingHer = async (values = HER) => {
    const db = new pg.Client({ connectionString: cloud.postgresUrl });
    await db.connect();
    try {
      const { rows: tables } = await db.query<{ name: string }>(
        "SELECT quote_ident(relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relkind IN ('r', 'p')",
      );
      const found: string[] = [];
      for (const { name } of tables) {
        const { rows } = await db.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t WHERE t::text ILIKE ANY($1)`, [values.map((v) => `%${v}%`)]);
        found.push(...rows.map((r) => `${name}: ${r.row}`));
      }
      return found;
    } finally {
      await db.end();
    }
  };

  beforeAll(async () => {
    cloud = await startCloud({ parameters: { SingleCopyLimit: String(COPY_LIMIT) } });
    on = connectCloud(cloud);
    for (const f of readdirSync(SAMPLE)) await upload(`incoming/${CLIENT}/${f}`, readFileSync(join(SAMPLE, f)));
    // The clients file of the next day without its header: refused, its first row (Frida) taken for the header.
    const headerless = readFileSync(join(SAMPLE, 'clients_20200130.csv'), 'utf8').split('\n').slice(1).join('\n');
    await upload(`incoming/${CLIENT}/clients_20200131.csv`, headerless);
    await waitFor('20200130', (b) => b.stage === 'COMPLETE');
    await waitFor('20200131', (b) => b.stage === 'REJECTED');
    for (const f of readdirSync(SAMPLE)) {
      const text = readFileSync(join(SAMPLE, f), 'utf8').replace('Frida,Müller', 'Frida,Schmidt');
      await upload(`incoming/${CLIENT}/${f.replace('20200130', RENAMED)}`, text);
    }
    await waitFor(RENAMED, (b) => b.stage === 'COMPLETE');
    await cloud.idle();
  }, 180_000);
  afterAll(async () => {
    await cloud?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('erases Frida from every table, archived file and report, keeps Fritz, and records the erasure without her reference', async () => {
    // Before: she is there, in the tables (both versions of her in the history) and the objects.
    expect((await rowsNamingHer()).length).toBeGreaterThan(5);
    expect((await rowsNamingHer()).filter((r) => r.startsWith('clients_history:')).length).toBe(2);
    const before = await objects();
    expect(
      Object.keys(before)
        .filter((k) => holdsHer(before[k]!).length)
        .sort(),
    ).toEqual(expect.arrayContaining([`archive/${CLIENT}/accounts_20200130.csv`, `archive/${CLIENT}/clients_20200130.csv`, `quarantine/${CLIENT}/clients_20200131.csv`]));
    // Each upload, above the lowered single-copy limit, was archived or quarantined by a multipart copy.
    const moved = Object.entries(await etags()).filter(([k]) => /^(archive|quarantine)\//.test(k));
    expect(moved.length).toBe(9);
    expect(moved.filter(([, o]) => o.size <= COPY_LIMIT || !MULTIPART.test(o.etag))).toEqual([]);
    const etagsBefore = await etags();

    const out = await cli('forget', '--client-reference', FRIDA.client.toUpperCase(), '--json');
    expect([out.code, holdsHer(out.stderr)]).toEqual([0, []]);
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({
      found: true,
      rows: { clients: 2, portfolios: 2, accounts: 2, transactions: 2, portfolio_links: 2, clients_history: 2, accounts_history: 1, portfolios_history: 1 },
    });
    expect(holdsHer(out.stdout)).toEqual([]);

    expect(await rowsNamingHer()).toEqual([]);
    const after = await objects();
    expect(Object.entries(after).flatMap(([k, text]) => holdsHer(text).map((v) => `${k}: ${v}`))).toEqual([]);
    // Each object erasure rewrote, above the limit, was written anew in parts.
    const rewritten = Object.keys(after).filter((k) => after[k] !== before[k]);
    expect(rewritten).toEqual(expect.arrayContaining([`archive/${CLIENT}/accounts_20200130.csv`, `quarantine/${CLIENT}/clients_20200131.csv`]));
    const etagsAfter = await etags();
    expect(rewritten.filter((k) => etagsAfter[k]!.size <= COPY_LIMIT || !MULTIPART.test(etagsAfter[k]!.etag) || etagsAfter[k]!.etag === etagsBefore[k]!.etag)).toEqual([]);
    // Fritz is intact: his rows, archived lines and links.
    expect(after[`archive/${CLIENT}/clients_20200130.csv`]).toBe(
      before[`archive/${CLIENT}/clients_20200130.csv`]!.split('\n')
        .filter((l) => !l.includes('Frida'))
        .join('\n'),
    );
    const db = new pg.Client({ connectionString: cloud.postgresUrl });
    await db.connect();
    try {
      const count = async (sql: string) => Number((await db.query(sql, [CLIENT])).rows[0].n);
      expect(await count(`SELECT count(*) AS n FROM clients WHERE client = $1 AND client_reference = '${FRITZ.client}'`)).toBe(2);
      expect(await count(`SELECT count(*) AS n FROM accounts WHERE client = $1 AND account_number = '${FRITZ.account}'`)).toBe(2);
      expect(await count(`SELECT count(*) AS n FROM portfolio_links WHERE client = $1 AND portfolio_reference = '${FRITZ.portfolio}'`)).toBe(2);
      expect(await count('SELECT count(*) AS n FROM client_taxes WHERE client = $1')).toBe(2);
      expect(await count(`SELECT count(*) AS n FROM clients_history WHERE client = $1 AND client_reference = '${FRITZ.client}' AND is_current`)).toBe(1);
    } finally {
      await db.end();
    }

    // The record: when, how much, and a salted hash, never the reference.
    const [erasure, ...more] = await createErasures(on.aws.dynamo, metastoreTable(on.deployment)).list();
    expect(more).toEqual([]);
    expect(erasure).toMatchObject({ status: 'DONE', done_at: expect.any(String), counts: { found: true } });
    expect(holdsHer(JSON.stringify(erasure))).toEqual([]);

    // The lineage says so: each file the erasure rewrote keeps its upload's SHA-256, for audit, marked with the
    // request and the SHA-256 of the bytes it left; `lineage` shows it for an event published before.
    const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
    const marks = async () => Object.fromEntries(Object.entries((await on.metastore.getBatch(CLIENT, '20200130'))!.files).map(([type, f]) => [type, [f.sha256, f.erasures]]));
    const archived = (type: string) => after[`archive/${CLIENT}/${type}_20200130.csv`]!;
    const uploaded = (type: string) => sha256(readFileSync(join(SAMPLE, `${type}_20200130.csv`)));
    const marked = (type: string) => [uploaded(type), [{ request: result.request, at: expect.any(String), sha256: sha256(archived(type)) }]];
    expect(await marks()).toEqual({ accounts: marked('accounts'), clients: marked('clients'), portfolios: marked('portfolios'), transactions: marked('transactions') });
    const fritzEvent = (await readOutputEvents(on.aws.kinesis, eventsStream(on.deployment))).find(
      (e) => e.client === CLIENT && e.batch_date === '20200130' && e.portfolio_reference === FRITZ.portfolio,
    )!;
    const chain = await cli('lineage', '--event-id', String(fritzEvent.event_id), '--json');
    expect(JSON.parse(chain.stdout).lineage.files.clients).toMatchObject({ sha256: uploaded('clients'), rewritten_by_erasure: [{ request: result.request, sha256: sha256(archived('clients')) }] });
    expect((await cli('lineage', '--event-id', String(fritzEvent.event_id))).stdout).toContain(`rewritten by erasure ${result.request}`);

    // Forgetting her again finds nothing and changes nothing.
    const again = await cli('forget', '--client-reference', FRIDA.client);
    expect([again.code, again.stdout]).toEqual([0, expect.stringContaining('nothing held that reference')]);
    expect(await objects()).toEqual(after);
    expect((await marks()).clients).toEqual(marked('clients'));
  }, 180_000);

  it('publishes no event naming her when the batch runs again', async () => {
    // As when an earlier batch's running totals change: a new generation, every step again from the tables.
    expect(await on.metastore.rerunLaterBatches(CLIENT, '20200129')).toEqual(['20200130', RENAMED]);
    await waitFor('20200130', (b) => b.stage === 'COMPLETE' && b.generation === 2);
    // Her deposits left the first batch's running totals, so the next batch may go round once more.
    await waitFor(RENAMED, (b) => b.stage === 'COMPLETE' && b.generation >= 2);
    await cloud.idle();
    await waitFor(RENAMED, (b) => b.stage === 'COMPLETE');
    const republished = (await readOutputEvents(on.aws.kinesis, eventsStream(on.deployment))).filter((e) => e.client === CLIENT && e.version === 2);
    expect([...new Set(republished.map((e) => `${e.portfolio_reference} ${e.client_reference} ${e.account_number}`))]).toEqual([`${FRITZ.portfolio} ${FRITZ.client} ${FRITZ.account}`]);
    expect(holdsHer(JSON.stringify(republished))).toEqual([]);
    // Their lineage names the upload and the erasure that rewrote it since.
    expect(republished.find((e) => e.batch_date === '20200130')!.lineage!.files.clients!.erasures).toEqual([{ at: expect.any(String), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    // The history, computed again from the tables, has no version of her either.
    expect(await rowsNamingHer()).toEqual([]);
  }, 300_000);

  it('erases every other object when one cannot be read, a key with a carriage return too, reports the one, and erases it once redriven', async () => {
    const bucket = ingestBucket(on.deployment);
    const erasures = createErasures(on.aws.dynamo, metastoreTable(on.deployment));
    const holdsHim = (text: string) => HIM.filter((v) => text.includes(v));
    const his = `record_id,first_name,last_name,client_reference,tax_free_allowance\n2,Fritz,Maier,${FRITZ.client},0\n`;
    // Refused for its name and quarantined under it, carriage return and all: an XML listing would give a line feed.
    const crKey = `quarantine/${CLIENT}/clients_20200201\r.csv`;
    await upload(`incoming/${CLIENT}/clients_20200201\r.csv`, his);
    await cloud.idle();
    expect(holdsHim((await objects())[crKey] ?? '')).toEqual([FRITZ.client, 'Fritz', 'Maier']);
    // An older archived clients file of his in Deep Archive, not restored: S3 will not read it.
    const archived = `archive/${CLIENT}/clients_20200129.csv`;
    await on.aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: archived, Body: his, StorageClass: 'DEEP_ARCHIVE' }));

    const out = await cli('forget', '--client-reference', FRITZ.client, '--json');
    expect(out.code).toBe(1);
    const failed = JSON.parse(out.stdout);
    expect(failed).toMatchObject({ status: 'FAILED', not_erased: [{ key: archived, reason: expect.stringContaining('ObjectNotRestoredError') }] });
    expect(holdsHim(out.stdout)).toEqual([]);
    // Every other object is erased, the carriage-return key's too; the tables keep him, as they are what finds him.
    expect(Object.entries(await objects(archived)).flatMap(([k, text]) => holdsHim(text).map((v) => `${k}: ${v}`))).toEqual([]);
    expect((await rowsNamingHer(HIM)).length).toBeGreaterThan(0);
    const text = await cli('forget', '--client-reference', FRITZ.client);
    expect([text.code, text.stdout]).toEqual([1, expect.stringContaining(`not erased: ${archived}: ObjectNotRestoredError`)]);

    // Both requests' records gave up: `failures` lists them as erasures, with what was not erased.
    const listed = await cli('failures', '--json');
    const queued = (JSON.parse(listed.stdout) as FailuresListing).failures.filter((f) => f.service === 'privacy');
    expect([listed.code, queued.map((f) => f.erasure?.request).sort()]).toEqual([
      1,
      (await erasures.list())
        .slice(-2)
        .map((r) => r.sk)
        .sort(),
    ]);
    expect(queued[0]).toMatchObject({ erasure: { notErased: [{ key: archived }] }, reason: expect.stringContaining('ErasureIncompleteError') });

    // Restored (written anew in Standard), then redriven: the request is DONE and he is gone everywhere.
    await on.aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: archived, Body: his }));
    const redriven = await cli('redrive', '--id', queued.find((f) => f.erasure?.request === failed.request)!.id);
    expect([redriven.code, redriven.stdout]).toEqual([0, expect.stringContaining('requested again')]);
    let done = await erasures.get(failed.request);
    for (let i = 0; i < 240 && done?.status !== 'DONE'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      done = await erasures.get(failed.request);
    }
    expect(done).toMatchObject({ status: 'DONE', counts: { found: true, objects: { archive: 1 } } });
    expect(done!.counts!.rows.clients).toBeGreaterThan(0);
    expect(await rowsNamingHer(HIM)).toEqual([]);
    expect(Object.entries(await objects()).flatMap(([k, text]) => holdsHim(text).map((v) => `${k}: ${v}`))).toEqual([]);
    // The other request's message is left, its erasure named in the text listing; redriven, it finds nothing left.
    const other = queued.find((f) => f.erasure?.request !== failed.request)!;
    const left = await cli('failures');
    expect(left.stdout.split('\n').filter((l) => l.includes(' privacy '))).toEqual([expect.stringContaining(`${other.id}  privacy  ?  ?  erasure ${other.erasure!.request}  gen ?`)]);
    expect((await cli('redrive', '--id', other.id)).code).toBe(0);
    let nothing = await erasures.get(other.erasure!.request);
    for (let i = 0; i < 240 && nothing?.status !== 'DONE'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      nothing = await erasures.get(other.erasure!.request);
    }
    expect(nothing).toMatchObject({ status: 'DONE', counts: { found: false } });
    expect((JSON.parse((await cli('failures', '--json')).stdout) as FailuresListing).failures.filter((f) => f.service === 'privacy')).toEqual([]);
  }, 240_000);
});
