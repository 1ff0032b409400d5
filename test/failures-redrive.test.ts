import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { loginOf } from '@dataharvest/shared/db/access';
import { startCloud, type LocalCloud } from '../local/src/cloud/index';
import { announceCloud, type Connection, connectCloud, eventsStream, ingestBucket } from '../local/src/cli/connection';
import type { FailuresListing } from '../local/src/cli/failures';
import { latestForBatch, readOutputEvents } from '../local/src/cli/output-events';
import { cli } from './support/cli';
import { databaseDown } from './support/database-down';
import { cloudScratch } from './support/scratch';
import { until } from './support/until';

const SAMPLE = 'examples/sample-batch';
const DATE = '20200130';
const TRANSFORMERS = ['deposit', 'history', 'tax', 'transaction'];

describe('a transformer whose records give up: failures lists it, redrive after the fix completes the batch', () => {
  const scratch = cloudScratch('redrive');
  const { dataDir } = scratch;
  let cloud: LocalCloud | undefined;
  let on: Connection;
  const start = async () => {
    cloud = await startCloud({ dataDir });
    announceCloud(dataDir, cloud);
    on = connectCloud(cloud);
  };
  const upload = (client: string) =>
    Promise.all(readdirSync(SAMPLE).map((f) => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud!), Key: `incoming/${client}/${f}`, Body: readFileSync(join(SAMPLE, f)) }))));
  const stageOf = (client: string, stage: string) => async () => {
    const batch = await on.metastore.getBatch(client, DATE);
    return batch?.stage === stage ? batch : undefined;
  };
  // The event id and the client field name the client: everything else is the same for the same input.
  const figures = async (client: string) =>
    latestForBatch(await readOutputEvents(on.aws.kinesis, eventsStream(cloud!)), client, DATE).map(({ client: _c, event_id: _i, published_at: _p, lineage: _l, ...rest }) => rest);
  const listed = async () => {
    const out = await cli('failures', '--json', '--data-dir', dataDir);
    return { code: out.code, failures: (JSON.parse(out.stdout) as FailuresListing).failures };
  };

  beforeAll(start);
  afterAll(async () => {
    if (cloud) await databaseDown(cloud.postgresUrl, false, TRANSFORMERS.map(loginOf)).catch(() => undefined);
    await cloud?.stop();
    scratch.remove();
  });

  it('lists what gave up with client, batch and reason, keeps it over a restart, and redrives it to a clean run’s events', async () => {
    await upload('CLEAN_CO');
    await until('the clean batch', stageOf('CLEAN_CO', 'COMPLETE'));
    expect(await listed()).toEqual({ code: 0, failures: [] });

    // The transformers' logins stop working: persistence and relationship, on logins of their own, carry on.
    await databaseDown(cloud!.postgresUrl, true, TRANSFORMERS.map(loginOf));
    await upload('BROKEN_CO');
    const gaveUp = await until('every transformer giving up', async () => {
      const out = await listed();
      return out.failures.length === TRANSFORMERS.length ? out : undefined;
    });
    expect(gaveUp.code).toBe(1);
    expect(gaveUp.failures.map((f) => f.service).sort()).toEqual(TRANSFORMERS);
    for (const f of gaveUp.failures) {
      expect(f).toMatchObject({ client: 'BROKEN_CO', batchDate: DATE, generation: 1, reason: expect.stringContaining('is not permitted to log in') });
      expect(f.attempts).toBeGreaterThanOrEqual(4); // the first attempt and maximumRetryAttempts (3) retries
      expect(Date.parse(f.lastSeen)).toBeGreaterThanOrEqual(Date.parse(f.firstSeen));
    }
    expect((await on.metastore.listFailures('BROKEN_CO', DATE)).map((f) => [f.function, f.gave_up])).toEqual(TRANSFORMERS.map((t) => [t, true]));
    expect((await on.metastore.getBatch('BROKEN_CO', DATE))?.stage).toBe('RELATED');

    // The on-failure queues live in fauxqs's memory: a restart of the cloud must not lose them.
    await cloud!.stop();
    cloud = undefined;
    await start();
    const restarted = await listed();
    expect(restarted.failures.map(({ id: _, ...f }) => f)).toEqual(gaveUp.failures.map(({ id: _, ...f }) => f));

    // The fix: the logins work again. Redrive re-runs the transformers for generation 1 and empties the queues.
    await databaseDown(cloud!.postgresUrl, false, TRANSFORMERS.map(loginOf));
    const redriven = await cli('redrive', '--all', '--data-dir', dataDir);
    expect(redriven).toMatchObject({ code: 0 });
    expect(redriven.stdout.match(/BROKEN_CO\/20200130 generation 1: re-delivered/g)).toHaveLength(TRANSFORMERS.length);
    const done = await until('the redriven batch', stageOf('BROKEN_CO', 'COMPLETE'));
    expect(done.generation).toBe(1);
    expect(await figures('BROKEN_CO')).toEqual(await figures('CLEAN_CO'));
    expect(await listed()).toEqual({ code: 0, failures: [] });
    expect(await on.metastore.listFailures('BROKEN_CO')).toEqual([]);
  }, 300_000);
});
