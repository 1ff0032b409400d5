import pg from 'pg';
import { logger } from './logger';

// Money and dates leave PostgreSQL as text: NUMERIC must never become a float, DATE never a local-time Date.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

let pool: pg.Pool | undefined;

/**
 * A pool that survives the server dropping an idle connection (a restart, a failover, a shutdown racing the
 * pool's own end(), which resolves before its connections have closed): the next query opens a new one.
 */
export function newPool(config: pg.PoolConfig): pg.Pool {
  const created = new pg.Pool(config);
  created.on('error', (error) => logger.warn('idle PostgreSQL connection lost', { error: error.message }));
  return created;
}

/** One small pool per container; a Lambda handles one event at a time. */
export function pgPool(): pg.Pool {
  pool ??= newPool({ connectionString: process.env.DATABASE_URL, max: 2, idleTimeoutMillis: 30_000 });
  return pool;
}

/** Runs fn inside one transaction on a pooled connection, rolling back on any error. */
export async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pgPool().connect();
  try {
    return await transaction(client, fn);
  } finally {
    client.release();
  }
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

const schemas = new Map<string, Promise<void>>();

/** Applies a service's DDL once per container; a failed attempt is forgotten, so the next event tries again. */
export function ensureSchema(ddl: readonly string[]): Promise<void> {
  const key = ddl.join(';\n');
  let ready = schemas.get(key);
  if (!ready) {
    ready = pgPool()
      .connect()
      .then((db) => applyDdl(db, ddl).finally(() => db.release()));
    ready.catch(() => schemas.delete(key));
    schemas.set(key, ready);
  }
  return ready;
}

/**
 * Applies CREATE … IF NOT EXISTS statements in one transaction. Alone they can still fail when two sessions race
 * (two cold starts), so one advisory lock serialises every service's schema changes.
 */
export function applyDdl(client: pg.ClientBase, statements: readonly string[]): Promise<void> {
  return transaction(client, async (db) => {
    await db.query("SELECT pg_advisory_xact_lock(hashtext('dataharvest:ddl'))");
    for (const statement of statements) await db.query(statement);
  });
}
