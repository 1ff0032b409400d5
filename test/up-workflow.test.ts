import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { runningCloud } from '../local/src/cli/connection';
import { freePort } from '../local/src/cloud/emulators/ports';
import { cli, startUp, type UpProcess } from './support/cli';
import { cloudScratch } from './support/scratch';
import { until } from './support/until';

async function query(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT current_user AS user')).rows[0];
  } finally {
    await client.end();
  }
}

/**
 * `dataharvest up --notifications` on fixed ports, as a user keeps it open in one terminal while uploading, running
 * and asking for status and logs in another; then reset refused, Ctrl-C, and reset.
 */
describe('dataharvest up for daily work: upload, status, run, notifications, logs, reset and Ctrl-C', () => {
  const scratch = cloudScratch('workflow');
  const { dir, dataDir } = scratch;
  let up: UpProcess;
  let ports: Record<'pg' | 's3' | 'dynamodb' | 'kinesis' | 'sqs', number>;
  beforeAll(async () => {
    ports = { pg: await freePort(), s3: await freePort(), dynamodb: await freePort(), kinesis: await freePort(), sqs: await freePort() };
    const flags = Object.entries(ports).flatMap(([service, port]) => [`--${service}-port`, String(port)]);
    up = startUp('--notifications', '--data-dir', dataDir, ...flags);
    await up.printed('notifications of arn:aws:sns:', 240_000);
  }, 300_000);
  afterAll(async () => {
    await up?.stop();
    scratch.remove();
  });

  it('prints pasteable endpoints on its fixed ports; a busy port is one line', async () => {
    const output = up.output();
    expect(output).toContain(`S3        http://127.0.0.1:${ports.s3}\n`);
    expect(output).toContain(`DynamoDB  http://127.0.0.1:${ports.dynamodb}\n`);
    expect(output).toContain(`Kinesis   http://127.0.0.1:${ports.kinesis}\n`);
    expect(output).toContain(`SQS       http://127.0.0.1:${ports.sqs}\n`);
    // Both database URLs work as printed: the superuser's without TLS, the functions' login over verified TLS.
    const superuser = new RegExp(`Postgres  (postgres://postgres:[^@\\s]+@127\\.0\\.0\\.1:${ports.pg}/dataharvest) `).exec(output)?.[1];
    expect(await query(superuser!)).toEqual({ user: 'postgres' });
    const login = /psql "(postgres:\/\/[^"]+sslmode=verify-full&sslrootcert=[^"]+)"/.exec(output)?.[1];
    expect(await query(login!)).toEqual({ user: 'dataharvest' });
    // A busy port is one line, before anything is deployed.
    expect(await cli('up', '--data-dir', join(dir, 'other'), '--s3-port', String(ports.s3))).toMatchObject({
      code: 1,
      stderr: `dataharvest: port ${ports.s3} for S3 is taken: stop whatever listens on it, or choose another port\n`,
    });
  });

  it('takes an upload that status then shows COMPLETE', async () => {
    const uploaded = await cli('upload', 'examples/sample-batch', '--client', 'EXT_CLIENT', '--data-dir', dataDir);
    expect(uploaded.stdout).toContain('uploaded incoming/EXT_CLIENT/accounts_20200130.csv');
    // Waited for here rather than by polling the CLI: each of its runs is a process start.
    const { metastore } = runningCloud(dataDir);
    await until('EXT_CLIENT COMPLETE', async () => ((await metastore.getBatch('EXT_CLIENT', '20200130'))?.stage === 'COMPLETE' ? true : undefined), 60_000);
    const status = JSON.parse((await cli('status', '--client', 'EXT_CLIENT', '--json', '--data-dir', dataDir)).stdout) as { batches: Array<{ stage: string }> };
    expect(status.batches[0]).toMatchObject({ client: 'EXT_CLIENT', batch_date: '20200130', stage: 'COMPLETE' });
  });

  it('is used by run, whose notifications and readable function logs it prints, as logs does', async () => {
    const run = await cli('run', 'examples/sample-batch', '--client', 'WORKFLOW', '--data-dir', dataDir);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('using the local cloud that `dataharvest up` runs');
    expect(run.stdout).toContain('batch WORKFLOW/20200130: COMPLETE');
    expect(up.process.exitCode).toBeNull();
    await up.printed('notification SUCCESS batch WORKFLOW 20200130 COMPLETE: batch complete: 2 events published\n');
    for (const type of ['accounts', 'clients', 'portfolios', 'transactions']) expect(up.output()).toContain(`notification SUCCESS file WORKFLOW 20200130 ${type}_20200130.csv: 2 rows loaded\n`);
    // Function logs read as `time function LEVEL message key=value…`; the emulators' known noise is gone.
    expect(up.output()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} dataharvest-persistence-\S+ INFO file settled key=incoming\/WORKFLOW\/accounts_20200130\.csv status=PERSISTED rows=2 /m);
    expect(up.output()).not.toMatch(/^\{/m);
    expect(up.output()).not.toContain('JAXB');
    // up keeps them in DIR/cloud.log too: `logs` prints them as up does, one function's with --function.
    const logs = await cli('logs', '--function', 'persistence', '--data-dir', dataDir);
    expect(logs).toMatchObject({ code: 0, stderr: '' });
    expect(logs.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} dataharvest-persistence-\S+ INFO file settled key=incoming\/WORKFLOW\/accounts_20200130\.csv status=PERSISTED rows=2 /m);
    expect(
      logs.stdout
        .trimEnd()
        .split('\n')
        .filter((l) => !l.includes(' dataharvest-persistence-')),
    ).toEqual([]);
  });

  it('completes a generated batch within its orphan threshold; a run timed out at once uploads nothing', async () => {
    const generated = join(dir, 'generated');
    expect(await cli('generate', 'batch', '--client', 'GENERATED', '--date', '20240318', '--portfolios', '20', '--orphans', '1%', '--out', generated)).toMatchObject({ code: 0 });
    const batch = await cli('run', generated, '--client', 'GENERATED', '--data-dir', dataDir);
    expect(batch).toMatchObject({ code: 0, stdout: expect.stringContaining('batch GENERATED/20240318: COMPLETE') });
    expect(batch.stdout).toMatch(/transaction_without_account +WARN +2 of 200 rows \(1\.00%, within threshold 1\.00%, error\)/);

    // The timeout counts from the command's start: at 1 ms, nothing is uploaded.
    const late = await cli('run', 'examples/sample-batch', '--client', 'LATE', '--timeout', '0.001', '--data-dir', dataDir);
    expect(late).toMatchObject({ code: 1, stdout: expect.stringContaining('timed out after 0.001s at stage RECEIVING, 0 of 4 file(s) uploaded') });
    expect(JSON.parse((await cli('status', '--client', 'LATE', '--json', '--data-dir', dataDir)).stdout)).toEqual({ batches: [], rejected: [] });
  });

  it('refuses reset while it runs, stops cleanly on Ctrl-C, after which the CLI finds no cloud and reset empties the data dir', async () => {
    expect(await cli('reset', '--data-dir', dataDir)).toEqual({
      code: 1,
      stdout: '',
      stderr: `dataharvest: a local cloud (pid ${up.process.pid}) is running on ${dataDir}: stop it (Ctrl-C in its terminal) before reset\n`,
    });
    expect(await up.stop()).toBe(0);
    expect(await cli('status', '--data-dir', dataDir)).toMatchObject({ code: 1, stderr: expect.stringContaining('no local cloud is running') });
    expect(await cli('reset', '--data-dir', dataDir)).toMatchObject({ code: 0, stderr: '' });
    expect(readdirSync(dataDir)).toEqual([]);
    expect(existsSync(join(dir, 'other', 'cloud.lock'))).toBe(false);
  });
});
