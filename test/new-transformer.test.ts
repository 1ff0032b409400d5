import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import type { Batch } from '@dataharvest/events/batch';
import { startCloud, type LocalCloud } from '../local/src/cloud/index';
import { backfill } from '../local/src/cli/backfill';
import { type Connection, connectCloud, eventsStream, ingestBucket } from '../local/src/cli/connection';
import { latestForBatch, readOutputEvents } from '../local/src/cli/output-events';
import { until } from './support/until';

const NAME = 'audit-probe';
const SAMPLE = 'examples/sample-batch';
const offline = { ...process.env, AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline', SLS_TELEMETRY_DISABLED: '1' };

/**
 * A checkout of its own to scaffold into, so the repository (and tests running beside this one) never see the new
 * service: the existing packaged services, the toolkit and node_modules are linked, serverless-compose.yml is copied.
 */
function scratchCheckout(): string {
  const repo = resolve('.');
  const root = mkdtempSync(join(tmpdir(), 'dataharvest-scaffold-'));
  for (const entry of ['node_modules', 'shared', 'events', 'database', 'metastore', 'local', 'examples']) symlinkSync(join(repo, entry), join(root, entry));
  mkdirSync(join(root, 'services'));
  for (const service of readdirSync(join(repo, 'services'))) symlinkSync(join(repo, 'services', service), join(root, 'services', service));
  copyFileSync(join(repo, 'serverless-compose.yml'), join(root, 'serverless-compose.yml'));
  return root;
}

describe('adding a transformer by deploying one service', () => {
  const repo = resolve('.');
  const root = scratchCheckout();
  let cloud: LocalCloud;
  /** The clients and metastore the CLI would use on this cloud. */
  let on: Connection;

  const uploadBatch = async (date: string) => {
    for (const f of readdirSync(SAMPLE)) {
      await on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: `incoming/EXT_CLIENT/${f.replace('20200130', date)}`, Body: readFileSync(join(SAMPLE, f)) }));
    }
  };
  const complete = (date: string, check: (b: NonNullable<Batch | undefined>) => boolean = () => true) =>
    until(`batch ${date} COMPLETE`, async () => {
      const b = await on.metastore.getBatch('EXT_CLIENT', date);
      return b?.stage === 'COMPLETE' && check(b) ? b : undefined;
    });

  beforeAll(async () => {
    cloud = await startCloud({ root });
    on = connectCloud(cloud);
  });
  afterAll(async () => {
    await cloud?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('scaffolds, deploys, runs for new batches and backfills an old one, with no other service changed', async () => {
    await uploadBatch('20200130');
    const old = await complete('20200130');
    expect(old.required_transformers).not.toContain(NAME);

    execFileSync('node', [join(repo, 'local/bin/dataharvest.mjs'), 'new', 'transformer', NAME], { cwd: root, env: offline });
    expect(readFileSync(join(root, 'serverless-compose.yml'), 'utf8')).toContain(`path: services/${NAME}`);
    execFileSync(join(repo, 'node_modules/.bin/serverless'), ['package'], { cwd: join(root, 'services', NAME), env: offline, stdio: 'ignore' });
    await cloud.deploy(join(root, 'services', NAME));
    expect((await on.metastore.listRegistry()).map((e) => e.name)).toContain(NAME);

    // Backfill: the old batch goes back to RELATED for the new transformer alone, then completes again.
    await backfill(on.metastore, { name: NAME, client: 'EXT_CLIENT' });
    const backfilled = await complete('20200130', (b) => b.transformers[NAME]?.status === 'DONE');
    expect(backfilled.generation).toBe(old.generation);
    expect(backfilled.transformers.deposit).toEqual(old.transformers.deposit);

    await uploadBatch('20200131');
    const fresh = await complete('20200131');
    expect(fresh.required_transformers).toContain(NAME);
    expect(fresh.transformers[NAME]?.status).toBe('DONE');

    const db = new pg.Client({ connectionString: cloud.postgresUrl });
    await db.connect();
    const rows = (await db.query(`SELECT batch_date::text, portfolio_reference::text, transaction_count FROM audit_probe_results ORDER BY 1, 2`)).rows;
    await db.end();
    expect(rows).toEqual(
      ['2020-01-30', '2020-01-31'].flatMap((d) => [
        { batch_date: d, portfolio_reference: '439695b4-508d-4562-8576-670e70024627', transaction_count: 1 },
        { batch_date: d, portfolio_reference: '90755e32-7438-4354-ad37-ad900e297844', transaction_count: 1 },
      ]),
    );

    // The events carry the new transformer's figure, with nothing but its service added: the backfilled batch's
    // events went out again a version higher, the new batch's first version has it too.
    const events = await readOutputEvents(on.aws.kinesis, eventsStream(cloud));
    const figures = (date: string) => latestForBatch(events, 'EXT_CLIENT', date).map((e) => ({ version: e.version, figure: e.audit_probe_transaction_count, deposits: e.deposits_total }));
    expect(figures('20200130')).toEqual([
      { version: 2, figure: 1, deposits: '0.00' },
      { version: 2, figure: 1, deposits: '5000.00' },
    ]);
    expect(figures('20200131').map((f) => f.figure)).toEqual([1, 1]);
    const before = latestForBatch(
      events.filter((e) => e.version === 1),
      'EXT_CLIENT',
      '20200130',
    );
    expect(before.map((e) => e.audit_probe_transaction_count)).toEqual([undefined, undefined]);
  });
});
