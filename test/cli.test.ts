import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runningCloud } from '../local/src/cli/connection';
import { until } from './support/until';

const cli = (...args: string[]) => promisify(execFile)('node', ['local/bin/dataharvest.mjs', ...args], { timeout: 120_000 });

describe('dataharvest up, upload, status', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dataharvest-up-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs a cloud in the foreground that upload and status reach, and stops cleanly on Ctrl-C', async () => {
    const up = spawn('node', ['local/bin/dataharvest.mjs', 'up', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    up.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    up.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => up.once('exit', resolve));
    try {
      await Promise.race([
        new Promise<void>((resolve) =>
          up.stdout.on('data', () => {
            // The endpoints' last line; deploy notices may say "functions" too.
            if (/^ {2}functions /m.test(output)) resolve();
          }),
        ),
        exited.then((code) => {
          throw new Error(`up exited with ${code} before printing its endpoints: ${output}`);
        }),
      ]);
      expect(output).toMatch(/S3 +http:\/\/127\.0\.0\.1:\d+/);
      expect(output).toMatch(/DynamoDB +http:\/\/127\.0\.0\.1:\d+/);

      const uploaded = await cli('upload', 'examples/sample-batch', '--client', 'EXT_CLIENT', '--data-dir', dataDir);
      expect(uploaded.stdout).toContain('uploaded incoming/EXT_CLIENT/accounts_20200130.csv');

      // Waited for here rather than by polling the CLI: each of its runs is a process start.
      const { metastore } = runningCloud(dataDir);
      await until('EXT_CLIENT COMPLETE', async () => ((await metastore.getBatch('EXT_CLIENT', '20200130'))?.stage === 'COMPLETE' ? true : undefined), 60_000);
      const status = JSON.parse((await cli('status', '--client', 'EXT_CLIENT', '--json', '--data-dir', dataDir)).stdout) as { batches: Array<{ stage: string }> };
      expect(status.batches[0]).toMatchObject({ client: 'EXT_CLIENT', batch_date: '20200130', stage: 'COMPLETE' });
    } finally {
      up.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    await expect(cli('status', '--data-dir', dataDir)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('no local cloud is running') });
  });
});
