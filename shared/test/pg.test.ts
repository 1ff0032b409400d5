import pg from 'pg';
import { startServices, type Services } from '../../local/src/cloud/emulators/services';
import { logger } from '../src/logger';
import { newPool } from '../src/pg';

describe('newPool', () => {
  let services: Services;
  beforeAll(async () => {
    services = await startServices();
    logger.setLogLevel('SILENT'); // the lost connection's warning is expected
  });
  afterAll(() => services?.stop());

  it('survives the server dropping an idle connection, and the next query opens a new one', async () => {
    const pool = newPool({ connectionString: services.postgresUrl, max: 1 });
    const backend = async () => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const first = await backend();
    const admin = new pg.Client({ connectionString: services.postgresUrl });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [first]);
    await admin.end();
    // Unheard, the dropped connection's 'error' event would be an uncaught exception failing this test.
    while (pool.totalCount > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await backend()).not.toBe(first);
    await pool.end();
  });
});
