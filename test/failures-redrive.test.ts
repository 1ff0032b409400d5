import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startCloud, type LocalCloud } from '../local/src/cloud/index';
import { announceCloud, type Connection, connectCloud, eventsStream, ingestBucket } from '../local/src/cli/connection';
import type { FailuresListing } from '../local/src/cli/failures';
import { latestForBatch, readOutputEvents } from '../local/src/cli/output-events';
import { databaseDown } from './support/database-down';
import { until } from './support/until';

const SAMPLE = 'examples/sample-batch';
const DATE = '20200130';
const TRANSFORMERS = ['deposit', 'tax', 'transaction'];

/** The compiled CLI on the test's cloud; its exit code and output whether it succeeds or not. */
const cli = (dataDir: string, ...args: string[]) =>
  promisify(execFile)('node', ['local/bin/dataharvest.mjs', ...args, '--data-dir', dataDir], { timeout: 120_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('a transformer whose records give up: failures lists it, redrive after the fix completes the batch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dataharvest-redrive-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as `postgres`, who must enter the data dirs inside
  const dataDir = join(dir, 'cloud');
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
    latestForBatch(await readOutputEvents(on.aws.kinesis, eventsStream(cloud!)), client, DATE).map(({ client: _c, event_id: _i, published_at: _p, ...rest }) => rest);
  const listed = async () => {
    const out = await cli(dataDir, 'failures', '--json');
    return { code: out.code, failures: (JSON.parse(out.stdout) as FailuresListing).failures };
  };

  beforeAll(start);
  afterAll(async () => {
    if (cloud) await databaseDown(cloud.postgresUrl, false).catch(() => undefined);
    await cloud?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists what gave up with client, batch and reason, keeps it over a restart, and redrives it to a clean run’s events', async () => {
    await upload('CLEAN_CO');
    await until('the clean batch', stageOf('CLEAN_CO', 'COMPLETE'));
    expect(await listed()).toEqual({ code: 0, failures: [] });

    // PostgreSQL goes away once the relations are established, before the transformers (batch window 1 s) start.
    await upload('BROKEN_CO');
    await until('relations', stageOf('BROKEN_CO', 'RELATED'));
    await databaseDown(cloud!.postgresUrl, true);
    const gaveUp = await until('three transformers giving up', async () => {
      const out = await listed();
      return out.failures.length === TRANSFORMERS.length ? out : undefined;
    });
    expect(gaveUp.code).toBe(1);
    expect(gaveUp.failures.map((f) => f.service).sort()).toEqual(TRANSFORMERS);
    for (const f of gaveUp.failures) {
      expect(f).toMatchObject({ client: 'BROKEN_CO', batchDate: DATE, generation: 1, reason: expect.stringContaining('not currently accepting connections') });
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

    // The fix: PostgreSQL is back. Redrive re-runs the transformers for generation 1 and empties the queues.
    await databaseDown(cloud!.postgresUrl, false);
    const redriven = await cli(dataDir, 'redrive', '--all');
    expect(redriven).toMatchObject({ code: 0 });
    expect(redriven.stdout.match(/BROKEN_CO\/20200130 generation 1: re-delivered/g)).toHaveLength(TRANSFORMERS.length);
    const done = await until('the redriven batch', stageOf('BROKEN_CO', 'COMPLETE'));
    expect(done.generation).toBe(1);
    expect(await figures('BROKEN_CO')).toEqual(await figures('CLEAN_CO'));
    expect(await listed()).toEqual({ code: 0, failures: [] });
    expect(await on.metastore.listFailures('BROKEN_CO')).toEqual([]);
  }, 300_000);
});
