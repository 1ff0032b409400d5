import { mkdirSync, readdirSync } from 'node:fs';
import { startCloud, type LocalCloud } from '../../local/src/cloud/index';
import { announceCloud, type Connection, connectCloud } from '../../local/src/cli/connection';
import type { DiscardListing } from '../../local/src/cli/discard';
import type { FailuresListing } from '../../local/src/cli/failures';
import type { ClientReport } from '../../local/src/cli/status-clients';
import { createDiscards } from '../../shared/src/discards';
import { cli } from '../support/cli';
import { databaseDown } from '../support/database-down';
import { cloudScratch } from '../support/scratch';
import { until } from '../support/until';

const SAMPLE = 'examples/sample-batch';
const FILES = readdirSync(SAMPLE).sort();
const DATE = '20200130';

/**
 * An operator's journey through persistence failures, with the CLI alone on a running cloud: the database refuses
 * connections while a client's files load, so persistence gives up on each; `status` and `failures` say so, naming
 * the files; after the fix `redrive` loads them, or, when the client uploaded again meanwhile, `failures discard
 * --resolved` clears what is stale. Either way `failures` ends at exit 0, without `reset`.
 */
describe('an operator recovers from persistence failures with the CLI alone', () => {
  const scratch = cloudScratch('operator-recovers');
  const { dataDir } = scratch;
  let cloud: LocalCloud | undefined;
  let on: Connection;
  const dh = (...args: string[]) => cli(...args, '--data-dir', dataDir);
  const failuresOf = async (client: string) => (JSON.parse((await dh('failures', '--json')).stdout) as FailuresListing).failures.filter((f) => f.client === client);
  const persistenceGaveUp = (client: string) =>
    until(
      `persistence giving up on ${client}'s four files`,
      async () => {
        const queued = await failuresOf(client);
        return queued.length === FILES.length ? queued : undefined;
      },
      120_000,
    );
  const complete = (client: string) => until(`${client}'s batch COMPLETE`, async () => ((await on.metastore.getBatch(client, DATE))?.stage === 'COMPLETE' ? true : undefined), 120_000);
  const upload = async (client: string) => expect(await dh('upload', SAMPLE, '--client', client)).toMatchObject({ code: 0 });

  beforeAll(async () => {
    // Nothing here restarts the cloud: an ephemeral one (the run's shared DynamoDB Local), announced where the CLI looks.
    mkdirSync(dataDir);
    cloud = await startCloud();
    announceCloud(dataDir, cloud);
    on = connectCloud(cloud);
  });
  afterAll(async () => {
    if (cloud) await databaseDown(cloud.postgresUrl, false).catch(() => undefined);
    await cloud?.stop();
    scratch.remove();
  });

  it('sees the failed uploads in status and failures, and redrives them once the database is back', async () => {
    await databaseDown(cloud!.postgresUrl, true);
    await upload('ACME_BANK');
    const failed = await persistenceGaveUp('ACME_BANK');
    expect(failed.map((f) => f.objectKey).sort()).toEqual(FILES.map((f) => `incoming/ACME_BANK/${f}`));

    const listed = await dh('failures');
    expect(listed.code).toBe(1);
    for (const file of FILES) expect(listed.stdout).toContain(`persistence  ACME_BANK  ${DATE}  ${file}  `);

    // The batch exists only through its failures: no file settled, so the metastore has no batch item.
    const status = await dh('status', '--client', 'ACME_BANK', '--date', DATE);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`ACME_BANK ${DATE}: FAILED`);
    for (const file of FILES) expect(status.stdout).toContain(`failure persistence ${file}: gave up, in its on-failure queue`);
    const clients = JSON.parse((await dh('status', '--clients', '--json')).stdout) as { clients: ClientReport[] };
    expect(clients.clients.find((c) => c.client === 'ACME_BANK')).toMatchObject({ failures: FILES.length, failures_waiting: FILES.length, refused_files: 0 });

    await databaseDown(cloud!.postgresUrl, false);
    const redriven = await dh('redrive', '--all');
    expect(redriven.code).toBe(0);
    expect(redriven.stdout.match(/ACME_BANK\/20200130 \w+_20200130\.csv: re-triggered/g)).toHaveLength(FILES.length);
    await complete('ACME_BANK');
    expect(await dh('failures')).toMatchObject({ code: 0 });
    expect(await dh('status', '--client', 'ACME_BANK', '--date', DATE)).toMatchObject({ code: 0 });
  }, 300_000);

  it('discards the messages a later upload made stale, recording each in the metastore', async () => {
    await databaseDown(cloud!.postgresUrl, true);
    await upload('BETA_BANK');
    const stale = await persistenceGaveUp('BETA_BANK');
    await databaseDown(cloud!.postgresUrl, false);
    // The client sends the files again, which load: the failed uploads' messages are about bytes long settled.
    await upload('BETA_BANK');
    await complete('BETA_BANK');

    const redriven = await dh('redrive', '--id', stale[0]!.id);
    expect(redriven.code).toBe(1);
    expect(redriven.stdout).toContain('no longer in incoming/');
    expect(redriven.stdout).toContain(`dataharvest failures discard --id ${stale[0]!.id}`);
    expect(await dh('status', '--client', 'BETA_BANK', '--date', DATE)).toMatchObject({ code: 0 });
    expect(await dh('failures')).toMatchObject({ code: 1 });

    const discarded = await dh('failures', 'discard', '--resolved', '--json');
    expect(discarded.code).toBe(0);
    const { discarded: records } = JSON.parse(discarded.stdout) as DiscardListing;
    expect(records.map((r) => r.message_id).sort()).toEqual(stale.map((f) => f.id).sort());
    const recorded = (await createDiscards(on.aws.dynamo, on.metastore.tableName).list()).filter((r) => r.client === 'BETA_BANK');
    expect(recorded.map((r) => r.object_key).sort()).toEqual(FILES.map((f) => `incoming/BETA_BANK/${f}`));
    for (const r of recorded) expect(r).toMatchObject({ service: 'persistence', batch_date: DATE, why: expect.stringMatching(/^resolved: \w+_20200130\.csv PERSISTED since/) });
    expect(await dh('failures')).toMatchObject({ code: 0 });
  }, 300_000);
});
