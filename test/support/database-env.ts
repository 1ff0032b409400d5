import type { Services } from '../../local/src/cloud/emulators/services';

/**
 * The environment shared/database.yml gives a function, for handlers a test runs in its own process: the local
 * PostgreSQL (or a relay in front of it) and a secret in the local Secrets Manager holding the superuser's login,
 * so the handler fetches its credentials and verifies TLS exactly as on AWS.
 */
export function databaseEnv(services: Services, via: { port?: number } = {}): Record<string, string> {
  const url = new URL(services.postgresUrl);
  const secretArn = services.secrets.create('test-database', () => JSON.stringify({ username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }));
  return {
    DB_HOST: services.postgres.host,
    DB_PORT: String(via.port ?? services.postgres.port),
    DB_NAME: url.pathname.slice(1),
    DB_SECRET_ARN: secretArn,
    DB_CA_FILE: services.postgres.caFile,
    DB_STATEMENT_TIMEOUT_MS: '60000',
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '60000',
  };
}
