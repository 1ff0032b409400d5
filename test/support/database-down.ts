import pg from 'pg';

/**
 * The database refuses every connection, as when PostgreSQL is down: no login to it, and the sessions it had are
 * cut (`down` false lets them in again). Given `logins`, only those roles are refused (as when one service's
 * credentials stop working), so the others carry on. Run as the superuser of `url` from the maintenance database,
 * so the switch itself keeps working.
 */
export async function databaseDown(url: string, down: boolean, logins?: string[]): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString() });
  await admin.connect();
  try {
    if (logins) for (const login of logins) await admin.query(`ALTER ROLE ${admin.escapeIdentifier(login)} ${down ? 'NOLOGIN' : 'LOGIN'}`);
    else await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(name)} ALLOW_CONNECTIONS ${down ? 'false' : 'true'}`);
    if (down)
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND ($2::text[] IS NULL OR usename = ANY($2))', [name, logins ?? null]);
  } finally {
    await admin.end();
  }
}
