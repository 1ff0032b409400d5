import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { connectCloud, ingestBucket } from '../../local/src/cli/connection';
import type { LocalCloud } from '../../local/src/cloud/index';
import { sharedCloud } from '../support/shared-cloud';
import { until } from '../support/until';

const SAMPLE = 'examples/sample-batch';

/**
 * `--stage S --region R` finds a deployed stage through CloudFormation's ListExports and the standard credential chain.
 * The local cloud answers ListExports like AWS, so the CLI runs here as against AWS: the environment names only
 * endpoints and credentials, as a shell pointed at AWS would; no region, no table, no `dataharvest up` data dir.
 */
describe('dataharvest status and backfill --stage', () => {
  let cloud: LocalCloud;
  const dataDir = mkdtempSync(join(tmpdir(), 'dataharvest-stage-')); // no cloud runs on it
  const withoutAws = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'METASTORE_TABLE'));
  const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
    promisify(execFile)('node', ['local/bin/dataharvest.mjs', ...args, '--data-dir', dataDir], { timeout: 60_000, env: { ...withoutAws, ...env } });
  const awsEnv = () => ({
    ...Object.fromEntries(Object.entries(cloud.env).filter(([k]) => k.startsWith('AWS_ENDPOINT_URL_'))),
    AWS_ACCESS_KEY_ID: cloud.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: cloud.env.AWS_SECRET_ACCESS_KEY,
  });

  beforeAll(async () => {
    cloud = await sharedCloud();
    const s3 = new S3Client({
      region: cloud.env.AWS_REGION,
      endpoint: cloud.endpoints.s3,
      forcePathStyle: true,
      credentials: { accessKeyId: cloud.env.AWS_ACCESS_KEY_ID!, secretAccessKey: cloud.env.AWS_SECRET_ACCESS_KEY! },
    });
    for (const f of readdirSync(SAMPLE)) await s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: `incoming/STAGE_CO/${f}`, Body: readFileSync(join(SAMPLE, f)) }));
  });
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the local cloud answers ListExports on its own endpoint', () => {
    expect(cloud.env.AWS_ENDPOINT_URL_CLOUDFORMATION).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('status --stage dev --region R reads the batches from the tables the stage exports', async () => {
    expect(cloud.stage).toBe('dev');
    // Waited for here rather than by polling the CLI: each of its runs is a process start.
    const { metastore } = connectCloud(cloud);
    await until('STAGE_CO COMPLETE', async () => ((await metastore.getBatch('STAGE_CO', '20200130'))?.stage === 'COMPLETE' ? true : undefined), 30_000);
    const { stdout, stderr } = await cli(awsEnv(), 'status', '--stage', 'dev', '--region', 'eu-central-1', '--client', 'STAGE_CO', '--json');
    const status = JSON.parse(stdout) as { batches: Array<{ stage: string }> };
    expect(status.batches[0]).toMatchObject({ client: 'STAGE_CO', batch_date: '20200130', stage: 'COMPLETE' });
    // The endpoints came from the environment, not from the CLI: it says so, in one line.
    expect(stderr).toMatch(/^dataharvest: stage dev is reached through the endpoints of .*AWS_ENDPOINT_URL_CLOUDFORMATION.*\n$/);
  });

  it('backfill --stage dev takes its region from AWS_REGION', async () => {
    const out = await cli({ ...awsEnv(), AWS_REGION: 'eu-central-1' }, 'backfill', 'deposit', '--client', 'STAGE_CO', '--stage', 'dev');
    expect(out.stdout).toMatch(/^backfill deposit: \d+ of 1 related batch\(es\) queued\n$/);
  });

  it('a stage not deployed in the region is one line naming both', async () => {
    await expect(cli(awsEnv(), 'status', '--stage', 'nosuch', '--region', 'eu-central-1')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/\ndataharvest: stage nosuch is not deployed in eu-central-1: no CloudFormation export dataharvest-nosuch-metastore-table\n$/),
    });
  });

  it('no credentials is the SDK credential error in one line', async () => {
    const noCredentials = {
      ...awsEnv(),
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_CONFIG_FILE: join(dataDir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const failed = cli(noCredentials, 'status', '--stage', 'dev', '--region', 'eu-central-1');
    await expect(failed).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/\ndataharvest: stage dev in eu-central-1: no AWS credentials: Could not load credentials from any providers\n$/),
    });
  });

  it('--stage without a region is a usage error; --region alone too', async () => {
    await expect(cli(awsEnv(), 'status', '--stage', 'dev')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--stage dev needs --region R (or AWS_REGION)') });
    await expect(cli(awsEnv(), 'status', '--region', 'eu-central-1')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--region goes with --stage') });
  });
});
