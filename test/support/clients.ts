import { type AwsClients, awsClients } from '@dataharvest/shared/aws';
import { readConfig } from '@dataharvest/shared/config';
import { createDatabase, DatabaseEnv } from '@dataharvest/shared/pg';
import { REGION } from '../../local/src/cloud/account';
import type { Services } from '../../local/src/cloud/emulators/services';
import { databaseEnv } from './database-env';

/** The region and keys the emulators take, for an SDK client a test makes itself. */
export const testAws = (services: Services) => ({ region: REGION, credentials: { accessKeyId: services.env.AWS_ACCESS_KEY_ID!, secretAccessKey: services.env.AWS_SECRET_ACCESS_KEY! } });

/** AWS clients on the started emulators, their endpoints passed explicitly as the CLI does. */
export function testClients(services: Services): AwsClients {
  return awsClients({ ...testAws(services), endpoints: services.endpoints });
}

/** The database a handler gets in Lambda (login from the secret, verified TLS), on the local PostgreSQL or a relay. */
export function testDatabase(services: Services, aws: AwsClients, via: { port?: number } = {}) {
  return createDatabase(readConfig(DatabaseEnv, databaseEnv(services, via)), aws.secrets);
}
