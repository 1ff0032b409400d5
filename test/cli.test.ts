import { runningCloud } from '../local/src/cli/connection';
import { cli, startUp, type UpProcess } from './support/cli';
import { cloudScratch } from './support/scratch';
import { until } from './support/until';

/**
 * `dataharvest up --notifications` in the foreground, as a user keeps it open in one terminal while uploading, running
 * and asking for status in another; then Ctrl-C.
 */
describe('dataharvest up, upload, status, run and notifications', () => {
  const scratch = cloudScratch('up');
  let up: UpProcess;
  beforeAll(async () => {
    up = startUp('--notifications', '--data-dir', scratch.dataDir);
    await up.printed('notifications of arn:aws:sns:');
  }, 120_000);
  afterAll(async () => {
    await up?.stop();
    scratch.remove();
  });

  it('prints its endpoints, which upload and status reach', async () => {
    expect(up.output()).toMatch(/S3 +http:\/\/127\.0\.0\.1:\d+/);
    expect(up.output()).toMatch(/DynamoDB +http:\/\/127\.0\.0\.1:\d+/);
    const uploaded = await cli('upload', 'examples/sample-batch', '--client', 'EXT_CLIENT', '--data-dir', scratch.dataDir);
    expect(uploaded.stdout).toContain('uploaded incoming/EXT_CLIENT/accounts_20200130.csv');

    // Waited for here rather than by polling the CLI: each of its runs is a process start.
    const { metastore } = runningCloud(scratch.dataDir);
    await until('EXT_CLIENT COMPLETE', async () => ((await metastore.getBatch('EXT_CLIENT', '20200130'))?.stage === 'COMPLETE' ? true : undefined), 60_000);
    const status = JSON.parse((await cli('status', '--client', 'EXT_CLIENT', '--json', '--data-dir', scratch.dataDir)).stdout) as { batches: Array<{ stage: string }> };
    expect(status.batches[0]).toMatchObject({ client: 'EXT_CLIENT', batch_date: '20200130', stage: 'COMPLETE' });
  });

  it('prints each settled file and the batch COMPLETE of a run as they come', async () => {
    const run = await cli('run', 'examples/sample-batch', '--client', 'NOTIFIED', '--data-dir', scratch.dataDir);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining('COMPLETE') });
    await up.printed('notification SUCCESS batch NOTIFIED 20200130 COMPLETE: batch complete: 2 events published\n');
    for (const type of ['accounts', 'clients', 'portfolios', 'transactions']) expect(up.output()).toContain(`notification SUCCESS file NOTIFIED 20200130 ${type}_20200130.csv: 2 rows loaded\n`);
  });

  it('stops cleanly on Ctrl-C, after which the CLI finds no cloud', async () => {
    expect(await up.stop()).toBe(0);
    expect(await cli('status', '--data-dir', scratch.dataDir)).toMatchObject({ code: 1, stderr: expect.stringContaining('no local cloud is running') });
  });
});
