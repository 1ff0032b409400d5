import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createFailureLog } from '@dataharvest/shared/failures';
import type { StatusReport } from '../../local/src/cli/status';
import { type Connection, connectCloud, ingestBucket } from '../../local/src/cli/connection';
import type { LocalCloud } from '../../local/src/cloud/index';
import { sharedCloud } from '../support/shared-cloud';
import { until } from '../support/until';

const SAMPLE = 'examples/sample-batch';
/** Two deposits whose sum overflows numeric(17,2): the deposit and transaction steps fail the batch for its data. */
const OVERFLOWING = 'record_id,accout_number,transaction_reference,amount,keyword\n1,12345678,big1,999999999999999.99,DEPOSIT\n2,12345678,big2,999999999999999.99,DEPOSIT\n';

/**
 * `dataharvest status` as an operator runs it against a cloud: why a batch failed and how long each stage took, an
 * exit code that says so, and a JSON output read whole through a slow pipe. Run with `--stage`, as against AWS.
 */
describe('dataharvest status for operators', () => {
  let cloud: LocalCloud;
  let on: Connection;
  const dataDir = mkdtempSync(join(tmpdir(), 'dataharvest-status-')); // no cloud runs on it: --stage reaches the stage
  const withoutAws = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'METASTORE_TABLE'));
  const env = () => ({
    ...withoutAws,
    ...Object.fromEntries(Object.entries(cloud.env).filter(([k]) => k.startsWith('AWS_ENDPOINT_URL_'))),
    AWS_ACCESS_KEY_ID: cloud.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: cloud.env.AWS_SECRET_ACCESS_KEY,
  });
  const status = (...args: string[]) => shell(`node local/bin/dataharvest.mjs status --stage dev --region eu-central-1 --data-dir ${dataDir} ${args.join(' ')}`);
  const shell = (command: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('bash', ['-o', 'pipefail', '-c', command], { env: env(), timeout: 60_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    cloud = await sharedCloud();
    on = connectCloud({ stage: cloud.stage, exports: cloud.exports, env: cloud.env });
    for (const f of readdirSync(SAMPLE)) {
      const body = f.startsWith('transactions_') ? OVERFLOWING : readFileSync(join(SAMPLE, f));
      await on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(on.deployment), Key: `incoming/HUGE/${f}`, Body: body }));
    }
  });
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("names a failed transformer's reason, times each stage the batch went through, and exits 1", async () => {
    // Waited for here rather than by polling the CLI: each of its runs is a process start.
    await until('HUGE FAILED', async () => ((await on.metastore.getBatch('HUGE', '20200130'))?.stage === 'FAILED' ? true : undefined), 60_000);
    const out = await status('--client', 'HUGE', '--json');
    expect(out.code).toBe(1);
    const [batch] = (JSON.parse(out.stdout) as StatusReport).batches;
    expect(batch).toMatchObject({
      client: 'HUGE',
      batch_date: '20200130',
      stage: 'FAILED',
      generation: 1,
      failure: { reason: expect.stringContaining('numeric field overflow') },
      data_quality: expect.any(Object),
    });
    // deposit and transaction both overflow; the one that failed the batch last is its `failure`.
    expect(batch!.transformers[batch!.failure!.step]).toMatchObject({ status: 'FAILED', reason: expect.stringContaining('numeric field overflow') });
    // Entered in this order, each timed up to the next; FAILED is where it rests.
    expect(batch!.timings!.map((t) => t.stage)).toEqual(['RECEIVING', 'PERSISTED', 'RELATED', 'FAILED']);
    expect(batch!.timings!.slice(0, 3).every((t) => typeof t.ms === 'number' && t.ms >= 0)).toBe(true);
    expect(batch!.timings!.at(-1)).not.toHaveProperty('ms');

    const human = await status('--client', 'HUGE');
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^HUGE 20200130: FAILED \(generation 1, age [\d.]+(ms|s|m\d\ds)\)\n {2}stages: RECEIVING \S+ → PERSISTED \S+ → RELATED \S+ → FAILED\n/);
    expect(human.stdout).toMatch(/\n {2}failed at (deposit|transaction): .*numeric field overflow/);
  });

  it('shows a batch whose records gave up as FAILED, with what sits in the failure queue', async () => {
    const log = createFailureLog(on.aws.dynamo, on.metastore.tableName);
    // The same stream record failing once more than the mappings retry it: it went to the on-failure queue.
    for (let i = 0; i < 4; i++) await log.recordFailure({ client: 'STUCK', batch_date: '20200130', generation: 1 }, 'tax', 'connect ECONNREFUSED', { shardId: 's', sequenceNumber: '1' });
    const out = await status('--client', 'STUCK', '--json');
    expect({ ...(JSON.parse(out.stdout) as StatusReport), code: out.code }).toMatchObject({ code: 1 });
    expect((JSON.parse(out.stdout) as StatusReport).batches).toEqual([
      expect.objectContaining({
        client: 'STUCK',
        batch_date: '20200130',
        stage: 'FAILED',
        failures: [expect.objectContaining({ function: 'tax', reason: 'connect ECONNREFUSED', gave_up: true, attempts: 4 })],
      }),
    ]);
    expect((await status('--client', 'STUCK')).stdout).toContain('failure tax: gave up, in its on-failure queue (generation 1, 4 attempts');
  });

  it('prints a JSON output far over 64 KiB whole into a pipe that reads slowly', async () => {
    const errors = Array.from({ length: 20 }, (_, i) => ({ line: i + 2, column: 'amount', reason: 'not an amount: digits with an optional minus sign and at most 2 decimals' }));
    const dates = Array.from({ length: 120 }, (_, i) => new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10).replaceAll('-', ''));
    // One item per batch date, so the writes need no order: ten at a time.
    for (let i = 0; i < dates.length; i += 10) {
      await Promise.all(
        dates.slice(i, i + 10).map((date) => {
          const key = `incoming/MANY/transactions_${date}.csv`;
          return on.metastore.recordFile('MANY', date, 'transactions', { status: 'REJECTED', key, rows: 0, bytes: 100, reason: 'bad rows', error_count: 20, errors, at: new Date().toISOString() });
        }),
      );
    }
    const out = await shell(`node local/bin/dataharvest.mjs status --client MANY --json --stage dev --region eu-central-1 --data-dir ${dataDir} | (sleep 1; cat)`);
    expect(out.stdout.length).toBeGreaterThan(128 * 1024);
    const report = JSON.parse(out.stdout) as StatusReport;
    expect(report.batches.map((b) => b.batch_date)).toEqual([...dates].reverse());
    expect(report.batches.every((b) => b.stage === 'REJECTED' && b.files.transactions?.errors.length === 20)).toBe(true);
    expect(out.code).toBe(1);
  });
});
