import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { memoryDir } from '../local/src/cloud/emulators/memory-dir';
import { SHARED_DYNAMODB_PORT } from '../local/src/cloud/emulators/services';

/** Every process still in the group: what a terminal's Ctrl-C would have had to stop. */
const processesIn = (group: number) => {
  const out = execFileSync('ps', ['-e', '-o', 'pgid=,pid=,comm='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pgid]) => Number(pgid) === group)
    .map(([, pid, comm]) => `${pid} ${comm}`);
};

describe('dataharvest up in a terminal', () => {
  const dataDir = memoryDir('dataharvest-group-');
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stops on a Ctrl-C that reaches its whole process group, PostgreSQL and Java included, leaving nothing behind', async () => {
    // detached: a group of its own, as a terminal gives a foreground job; the signal then goes to every member.
    // Not offered the run's DynamoDB Local: this `up` starts a JVM of its own, as on a developer's machine.
    const { [SHARED_DYNAMODB_PORT]: _, ...env } = process.env;
    const up = spawn('node', ['local/bin/dataharvest.mjs', 'up', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    let output = '';
    for (const s of [up.stdout, up.stderr]) s.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => up.once('exit', resolve));
    await Promise.race([
      new Promise<void>((resolve) => up.stdout.on('data', () => output.includes('Ctrl-C') && resolve())),
      exited.then((code) => {
        throw new Error(`up exited with ${code}: ${output}`);
      }),
    ]);
    expect(['postgres', 'java'].map((name) => processesIn(up.pid!).some((p) => p.endsWith(name)))).toEqual([true, true]);
    // What only AWS acts on is named at deploy, never dropped silently (docs/local-cloud.md).
    expect(output).toMatch(/dataharvest-persistence-dev: \d+ CloudWatch alarms recorded, not evaluated: no CloudWatch locally/);
    expect(output).toMatch(/dataharvest-metastore-dev: \d+ KMS keys checked, not applied/);
    expect(output).toMatch(/dataharvest-deposit-dev: log retention \(30 days\) of 2 log groups recorded, not applied/);
    expect(output).toContain(
      'dataharvest-persistence-dev: S3BucketIngest lifecycle rules (expire-noncurrent-versions, archive-to-glacier-ir, expire-quarantine, expire-errors, abort-incomplete-uploads) recorded',
    );
    process.kill(-up.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    // What it started is gone too (the reapers signal once their parent is gone: give them a moment).
    for (let i = 0; i < 50 && processesIn(up.pid!).length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(processesIn(up.pid!)).toEqual([]);
    expect(existsSync(join(dataDir, 'cloud.lock'))).toBe(false);
  });
});
