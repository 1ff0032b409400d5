import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import pg from 'pg';
import { startServices, type Services } from '../../local/src/cloud/emulators/services';
import { databaseEnv } from '../../test/support/database-env';
import { testClients } from '../../test/support/clients';
import { logger } from '../src/logger';
import { connectionConfig, DatabaseEnv, newPool } from '../src/pg';
import { readConfig } from '../src/config';

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

  it("connects as a function does, over TLS verified against the deployment's CA, and refuses a server another CA signed", async () => {
    const config = readConfig(DatabaseEnv, databaseEnv(services));
    const { secrets } = testClients(services);
    const verified = new pg.Client(await connectionConfig(config, secrets));
    await verified.connect();
    try {
      expect((await verified.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows).toEqual([{ ssl: true }]);
    } finally {
      await verified.end();
    }
    const otherCa = join(services.dataDir, 'other-ca.pem');
    writeFileSync(otherCa, rootCertificates[0]!);
    const untrusted = new pg.Client(await connectionConfig({ ...config, DB_CA_FILE: otherCa }, secrets));
    await expect(untrusted.connect()).rejects.toThrow(/self-signed certificate|unable to verify|unable to get local issuer/);
  });
});
