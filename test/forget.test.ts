import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, paginateListObjectsV2, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { createErasures } from '@dataharvest/shared/erasures';
import { type Connection, connectCloud, eventsStream, ingestBucket, metastoreTable } from '../local/src/cli/connection';
import { readOutputEvents } from '../local/src/cli/output-events';
import { type LocalCloud, startCloud } from '../local/src/cloud/index';
import { FRIDA, FRITZ } from './support/chain';

const SAMPLE = 'examples/sample-batch';
const CLIENT = 'FORGET_CO';
/** Everything that names Frida: her reference, portfolio, account and name. */
const HER = [FRIDA.client, FRIDA.portfolio, FRIDA.account, 'Frida', 'Müller'];
const holdsHer = (text: string) => HER.filter((v) => text.toLowerCase().includes(v.toLowerCase()));

/**
 * `dataharvest forget` end to end on the local cloud: the sample batch loaded and published, a headerless clients
 * file of a later date refused (so that errors/ and quarantine/ hold Frida), then Frida forgotten through the CLI.
 */
describe('dataharvest forget', () => {
  let cloud: LocalCloud;
  let on: Connection;
  const dataDir = mkdtempSync(join(tmpdir(), 'dataharvest-forget-'));
  const upload = (key: string, body: Buffer | string) => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(on.deployment), Key: key, Body: body }));
  const waitFor = async (batchDate: string, done: (b: { stage: string; generation: number }) => boolean) => {
    for (let i = 0; i < 240; i++) {
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
  const objects = async () => {
    const out: Record<string, string> = {};
    for await (const page of paginateListObjectsV2({ client: on.aws.s3 }, { Bucket: ingestBucket(on.deployment) })) {
      for (const { Key } of page.Contents ?? []) {
        const body = await on.aws.s3.send(new GetObjectCommand({ Bucket: ingestBucket(on.deployment), Key }));
        out[Key!] = await body.Body!.transformToString('utf8');
      }
    }
    return out;
  };
  /** Every row of every table, as PostgreSQL prints it, that holds one of Frida's values. */
  const rowsNamingHer = async () => {
    const db = new pg.Client({ connectionString: cloud.postgresUrl });
    await db.connect();
    try {
      const { rows: tables } = await db.query<{ name: string }>(
        "SELECT quote_ident(relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relkind IN ('r', 'p')",
      );
      const found: string[] = [];
      for (const { name } of tables) {
        const { rows } = await db.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t WHERE t::text ILIKE ANY($1)`, [HER.map((v) => `%${v}%`)]);
        found.push(...rows.map((r) => `${name}: ${r.row}`));
      }
      return found;
    } finally {
      await db.end();
    }
  };

  beforeAll(async () => {
    cloud = await startCloud();
    on = connectCloud(cloud);
    for (const f of readdirSync(SAMPLE)) await upload(`incoming/${CLIENT}/${f}`, readFileSync(join(SAMPLE, f)));
    // The clients file of the next day without its header: refused, its first row (Frida) taken for the header.
    const headerless = readFileSync(join(SAMPLE, 'clients_20200130.csv'), 'utf8').split('\n').slice(1).join('\n');
    await upload(`incoming/${CLIENT}/clients_20200131.csv`, headerless);
    await waitFor('20200130', (b) => b.stage === 'COMPLETE');
    await waitFor('20200131', (b) => b.stage === 'REJECTED');
    await cloud.idle();
  }, 180_000);
  afterAll(async () => {
    await cloud?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('erases Frida from every table, archived file and report, keeps Fritz, and records the erasure without her reference', async () => {
    // Before: she is there, in the tables and the objects.
    expect((await rowsNamingHer()).length).toBeGreaterThan(5);
    const before = await objects();
    expect(
      Object.keys(before)
        .filter((k) => holdsHer(before[k]!).length)
        .sort(),
    ).toEqual(expect.arrayContaining([`archive/${CLIENT}/accounts_20200130.csv`, `archive/${CLIENT}/clients_20200130.csv`, `quarantine/${CLIENT}/clients_20200131.csv`]));

    const out = await cli('forget', '--client-reference', FRIDA.client.toUpperCase(), '--json');
    expect([out.code, holdsHer(out.stderr)]).toEqual([0, []]);
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({ found: true, rows: { clients: 1, portfolios: 1, accounts: 1, transactions: 1, portfolio_links: 1 } });
    expect(holdsHer(out.stdout)).toEqual([]);

    expect(await rowsNamingHer()).toEqual([]);
    const after = await objects();
    expect(Object.entries(after).flatMap(([k, text]) => holdsHer(text).map((v) => `${k}: ${v}`))).toEqual([]);
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
      expect(await count(`SELECT count(*) AS n FROM clients WHERE client = $1 AND client_reference = '${FRITZ.client}'`)).toBe(1);
      expect(await count(`SELECT count(*) AS n FROM accounts WHERE client = $1 AND account_number = '${FRITZ.account}'`)).toBe(1);
      expect(await count(`SELECT count(*) AS n FROM portfolio_links WHERE client = $1 AND portfolio_reference = '${FRITZ.portfolio}'`)).toBe(1);
      expect(await count('SELECT count(*) AS n FROM client_taxes WHERE client = $1')).toBe(1);
    } finally {
      await db.end();
    }

    // The record: when, how much, and a salted hash, never the reference.
    const [erasure, ...more] = await createErasures(on.aws.dynamo, metastoreTable(on.deployment)).list();
    expect(more).toEqual([]);
    expect(erasure).toMatchObject({ status: 'DONE', done_at: expect.any(String), counts: { found: true } });
    expect(holdsHer(JSON.stringify(erasure))).toEqual([]);

    // Forgetting her again finds nothing and changes nothing.
    const again = await cli('forget', '--client-reference', FRIDA.client);
    expect([again.code, again.stdout]).toEqual([0, expect.stringContaining('nothing held that reference')]);
    expect(await objects()).toEqual(after);
  }, 180_000);

  it('publishes no event naming her when the batch runs again', async () => {
    // As when an earlier batch's running totals change: a new generation, every step again from the tables.
    expect(await on.metastore.rerunLaterBatches(CLIENT, '20200129')).toEqual(['20200130']);
    await waitFor('20200130', (b) => b.stage === 'COMPLETE' && b.generation === 2);
    const republished = (await readOutputEvents(on.aws.kinesis, eventsStream(on.deployment))).filter((e) => e.client === CLIENT && e.version === 2);
    expect([...new Set(republished.map((e) => `${e.portfolio_reference} ${e.client_reference} ${e.account_number}`))]).toEqual([`${FRITZ.portfolio} ${FRITZ.client} ${FRITZ.account}`]);
    expect(holdsHer(JSON.stringify(republished))).toEqual([]);
  }, 120_000);
});
