import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PortfolioEvent } from '@dataharvest/events/portfolio-event';
import { cliIn, startUpIn, type UpProcess } from '../support/cli';
import { cloudScratch, scratchCheckout } from '../support/scratch';

const NAME = 'audit-probe';
const FIELD = 'audit_probe_transaction_count';
const OLD = ['20200130', '20200131', '20200203'];

/**
 * An engineer adds a transformer to a local cloud that already holds completed batches, as
 * docs/adding-a-transformer.md tells it: scaffold, deploy into the running cloud, backfill, read the events.
 */
describe('journey: adding a transformer to a cloud with history', () => {
  const scratch = cloudScratch('add-transformer');
  const checkout = scratchCheckout();
  const { dataDir } = scratch;
  const dh = (...args: string[]) => cliIn(checkout.root, ...args);
  let up: UpProcess;

  /** The sample batch as a client would send it on `date`. */
  const batchDir = (date: string) => {
    const dir = join(scratch.dir, `batch-${date}`);
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync('examples/sample-batch')) copyFileSync(join('examples/sample-batch', f), join(dir, f.replace('20200130', date)));
    return dir;
  };
  /** The client's events as `dataharvest events` prints them: every version, or the highest per portfolio. */
  const published = async (...flags: string[]) => {
    const out = await dh('events', '--client', 'EXT_CLIENT', '--json', ...flags, '--data-dir', dataDir);
    return (JSON.parse(out.stdout) as { events: Array<PortfolioEvent & Record<string, unknown>> }).events;
  };
  const transformersOf = async (date: string) => {
    const { batches } = JSON.parse((await dh('status', '--client', 'EXT_CLIENT', '--date', date, '--json', '--data-dir', dataDir)).stdout) as {
      batches: Array<{ transformers: Record<string, unknown> }>;
    };
    return Object.keys(batches[0]!.transformers);
  };

  beforeAll(async () => {
    up = startUpIn(checkout.root, '--data-dir', dataDir);
    await up.printed('  functions ', 240_000);
  });
  afterAll(async () => {
    await up?.stop();
    checkout.remove();
    scratch.remove();
  });

  it('deploys into the running cloud, touches no old batch until backfill, then republishes each a version higher, once', async () => {
    for (const date of OLD) expect(await dh('run', batchDir(date), '--client', 'EXT_CLIENT', '--data-dir', dataDir)).toMatchObject({ code: 0 });
    const before = await published('--all-versions');

    expect(await dh('new', 'transformer', NAME)).toMatchObject({ code: 0 });
    const compose = readFileSync(join(checkout.root, 'serverless-compose.yml'), 'utf8');
    expect(compose).toMatch(new RegExp(`persistence:\\n.*\\n    dependsOn: \\[.*, ${NAME}\\]`));
    const deployed = await dh('deploy', NAME, '--data-dir', dataDir);
    expect(deployed).toMatchObject({ code: 0, stdout: `deployed ${NAME} into the local cloud on ${dataDir}: dataharvest-${NAME}-dev-transform, dataharvest-${NAME}-dev-register\n` });
    await up.printed(`deployed ${NAME}; functions `);

    // A batch after the deploy runs the new transformer; by the time it completes, the new consumer has read every
    // older record of the feed, and touched none of the old batches (it starts at LATEST).
    expect(await dh('run', batchDir('20200204'), '--client', 'EXT_CLIENT', '--data-dir', dataDir)).toMatchObject({ code: 0 });
    expect(await transformersOf('20200204')).toContain(NAME);
    for (const date of OLD) expect([date, await transformersOf(date)]).toEqual([date, expect.not.arrayContaining([NAME])]);
    expect((await published('--all-versions')).length).toBe(before.length + 2);

    const backfill = await dh('backfill', NAME, '--since', '20200101', '--wait', '--data-dir', dataDir);
    expect(backfill).toMatchObject({ code: 0 });
    expect(backfill.stdout).toContain(`backfill ${NAME}: 3 of 4 related batch(es) queued: ${OLD.map((d) => `EXT_CLIENT/${d}`).join(', ')}\n`);
    for (const date of OLD) expect(backfill.stdout).toContain(`EXT_CLIENT/${date}: COMPLETE, version 2, 2 event(s) published\n`);

    const latest = await published();
    for (const date of OLD) {
      const batch = latest.filter((e) => e.batch_date === date);
      expect([date, batch.map((e) => [e.version, e[FIELD]])]).toEqual([
        date,
        [
          [2, 1],
          [2, 1],
        ],
      ]);
    }
    const all = await published('--all-versions');

    // Twice changes nothing: nothing queued, nothing published.
    const again = await dh('backfill', NAME, '--since', '20200101', '--wait', '--data-dir', dataDir);
    expect(again).toMatchObject({ code: 0, stdout: `backfill ${NAME}: 0 of 4 related batch(es) queued\n` });
    expect((await published('--all-versions')).length).toBe(all.length);

    // A new version of the transformer's code, deployed and backfilled: every batch goes out once more, its
    // lineage naming the new code digest.
    const digest = (e: { lineage?: unknown }) => (e.lineage as { transformers: Record<string, string> }).transformers[NAME];
    const first = digest(latest.find((e) => e.batch_date === OLD[0])!);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    const handler = join(checkout.root, 'services', NAME, 'src', 'handler.ts');
    const table = `${NAME.replace('-', '_')}_results`;
    writeFileSync(handler, readFileSync(handler, 'utf8').replace(`'DELETE FROM ${table} WHERE client = $1 AND batch_date = $2'`, `'DELETE FROM ${table} WHERE batch_date = $2 AND client = $1'`));
    const redeployed = await dh('deploy', NAME, '--json', '--data-dir', dataDir);
    const { service, functions } = JSON.parse(redeployed.stdout) as { service: string; functions: string[] };
    expect([redeployed.code, service, functions.sort()]).toEqual([0, NAME, [`dataharvest-${NAME}-dev-register`, `dataharvest-${NAME}-dev-transform`]]);
    const upgraded = await dh('backfill', NAME, '--since', '20200101', '--wait', '--data-dir', dataDir);
    expect(upgraded).toMatchObject({ code: 0, stdout: expect.stringContaining(`backfill ${NAME}: 4 of 4 related batch(es) queued`) });
    const newest = await published();
    const digests = [...new Set(newest.map(digest))];
    expect(digests).toHaveLength(1);
    expect(digests[0]).not.toBe(first);
    expect(newest.filter((e) => e.batch_date === OLD[0]).map((e) => e.version)).toEqual([3, 3]);
    const upgradedAll = await published('--all-versions');

    // After a restart nothing replays: every reader resumes where it was, and a new batch runs the new transformer.
    await up.stop();
    up = startUpIn(checkout.root, '--data-dir', dataDir);
    await up.printed('  functions ', 240_000);
    expect(await dh('run', batchDir('20200205'), '--client', 'EXT_CLIENT', '--data-dir', dataDir)).toMatchObject({ code: 0 });
    const after = await published('--all-versions');
    expect(after.length).toBe(upgradedAll.length + 2);
    expect(after.filter((e) => e.batch_date === '20200205').map((e) => [e.version, e[FIELD]])).toEqual([
      [1, 1],
      [1, 1],
    ]);
  }, 600_000);
});
