import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudError } from '../src/cloud/errors';
import { firstBarrier } from '../src/cloud/emulators/postgres-access';
import { startServices } from '../src/cloud/emulators/services';

/** As root the local cloud runs PostgreSQL as `postgres`, who cannot enter a 0700 directory of root's (a clone under /root). */
describe('a data dir the user postgres cannot reach', () => {
  const closed = mkdtempSync(join(tmpdir(), 'dataharvest-closed-')); // mode 0700, owned by whoever runs the tests
  afterAll(() => rmSync(closed, { recursive: true, force: true }));

  it('names the first directory on the way that an account may not enter, by owner, group and other bits', () => {
    const open = join(closed, 'open');
    mkdirSync(open, { mode: 0o755 });
    const { uid, gid } = statSync(closed);
    const stranger = { uid: uid + 1, gids: [gid + 1] };
    expect(firstBarrier(join(open, 'cloud', 'postgres'), stranger)).toEqual({ dir: closed, mode: '0700' });
    expect(firstBarrier(join(open, 'cloud'), { uid, gids: [] })).toBeUndefined();
    chmodSync(closed, 0o710);
    expect(firstBarrier(open, { uid: uid + 1, gids: [gid] })).toBeUndefined();
    expect(firstBarrier(open, stranger)).toEqual({ dir: closed, mode: '0710' });
    chmodSync(closed, 0o700);
    expect(firstBarrier(tmpdir(), stranger)).toBeUndefined();
  });

  (process.getuid?.() === 0 ? it : it.skip)('startServices refuses it in one line, before starting anything', async () => {
    await expect(startServices({ dataDir: join(closed, 'cloud') })).rejects.toThrow(
      new CloudError(`PostgreSQL runs as the user postgres, who cannot enter ${closed} (mode 0700): use --data-dir on a path it can reach, e.g. /tmp/dataharvest`),
    );
  });

  (process.getuid?.() === 0 ? it : it.skip)('the CLI prints that line alone and exits 1', async () => {
    const run = promisify(execFile)('node', ['local/bin/dataharvest.mjs', 'up', '--data-dir', join(closed, 'cloud')], { timeout: 60_000 });
    await expect(run).rejects.toMatchObject({
      code: 1,
      stdout: '',
      stderr: `dataharvest: PostgreSQL runs as the user postgres, who cannot enter ${closed} (mode 0700): use --data-dir on a path it can reach, e.g. /tmp/dataharvest\n`,
    });
  });
});
