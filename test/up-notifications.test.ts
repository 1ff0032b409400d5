import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** `dataharvest up --notifications`: a batch run against it shows its notifications in up's output, one a line. */
describe('dataharvest up --notifications', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dataharvest-notifications-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as `postgres`, who must enter the data dirs inside
  const dataDir = join(dir, 'cloud');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints each settled file and the batch COMPLETE as they come', async () => {
    const up = spawn('node', ['local/bin/dataharvest.mjs', 'up', '--notifications', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    for (const s of [up.stdout, up.stderr]) s.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => up.once('exit', resolve));
    const printed = (text: string, timeoutMs = 120_000) =>
      Promise.race([
        new Promise<void>((resolve, reject) => {
          const until = Date.now() + timeoutMs;
          const check = () => (output.includes(text) ? resolve() : Date.now() > until ? reject(new Error(`no "${text}" in: ${output}`)) : setTimeout(check, 100));
          check();
        }),
        exited.then((code) => {
          throw new Error(`up exited with ${code}: ${output}`);
        }),
      ]);
    try {
      await printed('notifications of arn:aws:sns:');
      const run = await promisify(execFile)('node', ['local/bin/dataharvest.mjs', 'run', 'examples/sample-batch', '--client', 'NOTIFIED', '--data-dir', dataDir], { timeout: 180_000 });
      expect(run.stdout).toContain('COMPLETE');
      await printed('notification SUCCESS batch NOTIFIED 20200130 COMPLETE: batch complete: 2 events published\n');
      for (const type of ['accounts', 'clients', 'portfolios', 'transactions']) expect(output).toContain(`notification SUCCESS file NOTIFIED 20200130 ${type}_20200130.csv: 2 rows loaded\n`);
    } finally {
      up.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });
});
