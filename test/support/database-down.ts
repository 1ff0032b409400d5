import pg from 'pg';

/**
 * The database refuses every connection, as when PostgreSQL is down: no login to it, and the sessions it had are
 * cut (`down` false lets them in again). Run as the superuser of `url` from the maintenance database, so the switch
 * itself keeps working.
 */
export async function databaseDown(url: string, down: boolean): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString() });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(name)} ALLOW_CONNECTIONS ${down ? 'false' : 'true'}`);
    if (down) await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
  } finally {
    await admin.end();
  }
}
