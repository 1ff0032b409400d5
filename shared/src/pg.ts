import { readFileSync } from 'node:fs';
import { type ConnectionOptions, createSecureContext, rootCertificates } from 'node:tls';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import pg from 'pg';
import { z } from 'zod';
import { accessOf, applyGrants } from './db/access';
import { logger } from './logger';

// Money and dates leave PostgreSQL as text: NUMERIC must never become a float, DATE never a local-time Date.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

/**
 * SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation): PostgreSQL refused the data, which a
 * retry cannot change; any other error (a lost connection, a timeout) is the platform's and worth retrying.
 */
export const isDataError = (error: unknown): boolean => /^2[23]/.test(String((error as { code?: unknown } | undefined)?.code ?? ''));

/** Where the database is and how to log in: the secret's ARN, never a password (shared/database.yml sets these). */
export const DatabaseEnv = {
  DB_HOST: z.string().min(1),
  DB_PORT: z.coerce.number().int().positive(),
  DB_NAME: z.string().min(1),
  DB_SECRET_ARN: z.string().min(1),
  DB_CA_FILE: z.string().min(1),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().positive(),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().positive(),
};
export type DatabaseConfig = z.infer<z.ZodObject<typeof DatabaseEnv>>;
/** The cluster's secret, as SecretTargetAttachment completes it; only the login is read from it. */
const Credentials = z.object({ username: z.string().min(1), password: z.string().min(1) });
/** A rotated password reaches new connections within this time; a warm container asks once per interval at most. */
const SECRET_MAX_AGE_S = 300;

const credentials = async (secrets: SecretsProvider, secretArn: string) => Credentials.parse(await secrets.get(secretArn, { transform: 'json', maxAge: SECRET_MAX_AGE_S }));

/**
 * How a function connects: host and port of the proxy, the login from Secrets Manager, and TLS verified against the
 * CA bundle (Amazon's public roots for RDS Proxy, the RDS CAs for a cluster) and the host name, as verify-full does.
 */
export async function connectionConfig(config: DatabaseConfig, client: SecretsManagerClient): Promise<pg.PoolConfig> {
  const secrets = new SecretsProvider({ awsSdkV3Client: client });
  const { username } = await credentials(secrets, config.DB_SECRET_ARN);
  return {
    host: config.DB_HOST,
    port: config.DB_PORT,
    database: config.DB_NAME,
    user: username,
    password: async () => (await credentials(secrets, config.DB_SECRET_ARN)).password,
    ssl: verifiedTls(config.DB_CA_FILE),
    statement_timeout: config.DB_STATEMENT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  };
}

/**
 * TLS verified against Node's public roots and the CA in `caFile`, host name included, in one secure context for
 * every connection: given the CA list instead, each connection parsed its 140-odd certificates again (about 29 ms of
 * CPU, more than the rest of a connection's start).
 */
export function verifiedTls(caFile: string): ConnectionOptions {
  return { secureContext: createSecureContext({ ca: [...rootCertificates, readFileSync(caFile, 'utf8')] }), rejectUnauthorized: true };
}

/**
 * A pool that survives the server dropping an idle connection (a restart, a failover, a shutdown racing the
 * pool's own end(), which resolves before its connections have closed): the next query opens a new one.
 */
export function newPool(config: pg.PoolConfig): pg.Pool {
  const created = new pg.Pool(config);
  created.on('error', (error) => logger.warn('idle PostgreSQL connection lost', { error: error.message }));
  return created;
}

export type Database = ReturnType<typeof createDatabase>;

/**
 * A function's database: one small pool per container (a Lambda handles one event at a time), created on first use
 * with the login from Secrets Manager (through `secrets`); a failed start is forgotten, so the next event tries again.
 */
export function createDatabase(config: DatabaseConfig, secrets: SecretsManagerClient) {
  let started: Promise<pg.Pool> | undefined;
  let access: ReturnType<typeof accessOf>;
  const schemas = new Map<string, Promise<void>>();

  function pool(): Promise<pg.Pool> {
    if (!started) {
      const created = connectionConfig(config, secrets).then((c) => {
        const opened = newPool({ ...c, max: 2, idleTimeoutMillis: 30_000 });
        access = accessOf(String(c.user));
        // A login acting as a shared role (the ingest services) does so from its first statement on: what it creates
        // belongs to that role, so either service may drop or attach it later (docs/security.md).
        const session = access?.session;
        if (session)
          opened.on('connect', (client) => void client.query(`SET ROLE ${client.escapeIdentifier(session)}`).catch((error: Error) => logger.warn('SET ROLE failed', { error: error.message })));
        return opened;
      });
      created.catch(() => {
        if (started === created) started = undefined;
      });
      started = created;
    }
    return started;
  }

  /** Ends the pool, if one was started (tests; Lambda just freezes the container). */
  async function end(): Promise<void> {
    const ending = started;
    started = undefined;
    await ending?.then(
      (p) => p.end(),
      () => undefined,
    );
  }

  /** Runs fn inside one transaction on a pooled connection, rolling back on any error. */
  async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await (await pool()).connect();
    try {
      return await transaction(client, fn);
    } finally {
      client.release();
    }
  }

  /** Applies a service's DDL once per container; a failed attempt is forgotten, so the next event tries again. */
  function ensureSchema(ddl: readonly string[]): Promise<void> {
    const key = ddl.join(';\n');
    let ready = schemas.get(key);
    if (!ready) {
      ready = pool()
        .then((p) => p.connect())
        .then((db) => applyDdl(db, ddl, access?.ddl).finally(() => db.release()));
      ready.catch(() => schemas.delete(key));
      schemas.set(key, ready);
    }
    return ready;
  }

  return { pool, inTransaction, ensureSchema, end };
}

/** Runs fn inside one transaction on the given connection, rolling back on any error. */
export async function transaction<C extends pg.ClientBase, T>(client: C, fn: (client: C) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Applies CREATE … IF NOT EXISTS statements in one transaction. Alone they can still fail when two sessions race
 * (two cold starts), so one advisory lock serialises every service's schema changes. A service's login runs them as
 * the role that owns what they create (`owner`, which it may SET but does not inherit), then grants on it what
 * shared/database-access.json lists; the master (tests' superuser) runs them as itself.
 */
export function applyDdl(client: pg.ClientBase, statements: readonly string[], owner?: string): Promise<void> {
  return transaction(client, async (db) => {
    await db.query("SELECT pg_advisory_xact_lock(hashtext('dataharvest:ddl'))");
    if (owner) await db.query(`SET LOCAL ROLE ${db.escapeIdentifier(owner)}`);
    for (const statement of statements) await db.query(statement);
    if (owner) await applyGrants(db);
  });
}
