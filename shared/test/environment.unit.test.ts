import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { handler as catapult } from '../../services/catapult/src/handler';
import { awsClients } from '../src/aws';
import { ClientTrackingEnv } from '../src/client-tracking';
import { fromEnvironment } from '../src/environment';
import { builtOnFirstEvent } from '../src/handler';

const database = {
  DB_HOST: 'db.example',
  DB_PORT: '5432',
  DB_NAME: 'dataharvest',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:000000000000:secret:db',
  DB_CA_FILE: '/var/runtime/ca-cert.pem',
  DB_STATEMENT_TIMEOUT_MS: '60000',
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '60000',
};

describe("a function's configuration, read once in one place", () => {
  it('names every missing variable at once: the metastore, the database and the function its own', () => {
    expect(() => fromEnvironment({ DB_HOST: 'db.example' }, { EVENTS_STREAM: z.string().min(1) })).toThrow(
      /^invalid function configuration: METASTORE_TABLE: .*DB_PORT: .*DB_SECRET_ARN: .*EVENTS_STREAM: /,
    );
  });

  it('builds the metastore on the named table and coerces the database settings', () => {
    const { config, metastore } = fromEnvironment({ METASTORE_TABLE: 'dataharvest-metastore-x', EVENTS_STREAM: 'events', ...database }, { EVENTS_STREAM: z.string().min(1) });
    expect(metastore.tableName).toBe('dataharvest-metastore-x');
    expect(config).toMatchObject({ EVENTS_STREAM: 'events', DB_PORT: 5432, DB_STATEMENT_TIMEOUT_MS: 60000 });
  });

  it('requires the client tracking table of a function that counts its transitions, and of no other', () => {
    expect(() => fromEnvironment({ METASTORE_TABLE: 'dataharvest-metastore-x', ...database }, ClientTrackingEnv)).toThrow(/^invalid function configuration: CLIENT_TRACKING_TABLE: /);
    expect(() => fromEnvironment({ METASTORE_TABLE: 'dataharvest-metastore-x', ...database }, {})).not.toThrow();
  });

  it('leaves a handler module importable without its environment: it is read on the first event, and once', async () => {
    // The catapult module is imported above with no METASTORE_TABLE set: only invoking it asks for its configuration.
    await expect(catapult({ Records: [] }, {} as Context)).rejects.toThrow(/invalid function configuration: METASTORE_TABLE/);
    let builds = 0;
    const handler = builtOnFirstEvent(() => {
      builds += 1;
      return async (event: number) => event * 2;
    });
    expect([await handler(1, {} as Context), await handler(2, {} as Context)]).toEqual([2, 4]);
    expect(builds).toBe(1);
  });

  it('addresses S3 by path only on an explicit endpoint (an emulator), by host name on AWS', async () => {
    expect(await awsClients({ region: 'eu-central-1', endpoints: { s3: 'http://127.0.0.1:4569' } }).s3.config.forcePathStyle).toBe(true);
    expect(await awsClients({ region: 'eu-central-1' }).s3.config.forcePathStyle).toBe(false);
  });
});
