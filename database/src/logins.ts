import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import pg from 'pg';
import { z } from 'zod';
import { awsClients } from '@dataharvest/shared/aws';
import { readConfig } from '@dataharvest/shared/config';
import { applyGrants, INGEST, MIGRATOR, rolesSql, transformerLoginSql } from '@dataharvest/shared/db/access';
import { lambda } from '@dataharvest/shared/handler';
import { logger } from '@dataharvest/shared/logger';
import { transaction, verifiedTls } from '@dataharvest/shared/pg';
import { safeError } from '@dataharvest/shared/safe-error';

const Login = z.object({ username: z.string(), password: z.string() });
/** Custom::DatabaseLogins, the database stack's: every declared service → its secret's ARN. */
const Logins = z.object({ Logins: z.record(z.string(), z.string()) });
/** Custom::DatabaseLogin, a transformer stack's: its name and its own secret's ARN. */
const TransformerLogin = z.object({ Service: z.string(), SecretArn: z.string() });
/** Where the master connects: the proxy, with the master secret (only this function's environment names it). */
const Env = { DB_HOST: z.string().min(1), DB_PORT: z.coerce.number(), DB_NAME: z.string().min(1), DB_MASTER_SECRET_ARN: z.string().min(1), DB_CA_FILE: z.string().min(1) };

/**
 * The one function that holds the master login. It answers the database stack's `Custom::DatabaseLogins` (on every
 * deploy: the migrator, ingest and transformer roles and each declared service's login with the password of its
 * secret) and each transformer stack's `Custom::DatabaseLogin` (that transformer's login, from its own secret); both
 * then grant what shared/database-access.json lists on the tables that exist. Deleting either leaves the roles (the
 * cluster is retained, and a transformer's tables stay its login's). CloudFormation waits for the answer PUT to
 * ResponseURL, so one is sent whatever happens.
 */
export const handler = lambda(async (event: CloudFormationCustomResourceEvent): Promise<void> => {
  let outcome: { Status: 'SUCCESS' | 'FAILED'; Reason?: string } = { Status: 'SUCCESS' };
  const single = event.ResourceType === 'Custom::DatabaseLogin';
  const service = single ? String(event.ResourceProperties.Service) : undefined;
  try {
    if (event.RequestType !== 'Delete') await createLogins(single ? TransformerLogin.parse(event.ResourceProperties) : Logins.parse(event.ResourceProperties));
  } catch (error) {
    outcome = { Status: 'FAILED', Reason: (error as Error).message };
    logger.error('database logins failed', { request: event.RequestType, service, error: safeError(error) });
  }
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    // The pre-signed S3 URL is signed without a content type: sending one would break the signature.
    headers: { 'content-type': '' },
    body: JSON.stringify({
      ...outcome,
      PhysicalResourceId: single ? `database-login-${service}` : 'database-logins',
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    }),
  });
  if (!response.ok) throw new Error(`CloudFormation response refused: HTTP ${response.status}`);
});

async function createLogins(request: z.infer<typeof Logins> | z.infer<typeof TransformerLogin>): Promise<void> {
  const { secrets } = awsClients();
  const env = readConfig(Env, process.env);
  const read = async (arn: string) => Login.parse(JSON.parse((await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString ?? '{}'));
  const master = await read(env.DB_MASTER_SECRET_ARN);
  const quote = (db: pg.Client) => ({ identifier: (s: string) => db.escapeIdentifier(s), literal: (s: string) => db.escapeLiteral(s) });
  const statements =
    'Logins' in request
      ? async (db: pg.Client) => rolesSql(quote(db), await Promise.all(Object.entries(request.Logins).map(async ([service, arn]) => ({ service, ...(await read(arn)) }))))
      : async (db: pg.Client) => transformerLoginSql(quote(db), { service: request.Service, ...(await read(request.SecretArn)) });
  const db = new pg.Client({
    host: env.DB_HOST,
    port: env.DB_PORT,
    database: env.DB_NAME,
    user: master.username,
    password: master.password,
    ssl: verifiedTls(env.DB_CA_FILE),
  });
  await db.connect();
  try {
    await transaction(db, async () => {
      // The services' DDL takes the same lock: no CREATE runs while ownership moves.
      await db.query("SELECT pg_advisory_xact_lock(hashtext('dataharvest:ddl'))");
      for (const statement of await statements(db)) await db.query(statement);
      for (const owner of [MIGRATOR, INGEST]) {
        await db.query(`SET LOCAL ROLE ${db.escapeIdentifier(owner)}`);
        await applyGrants(db);
      }
    });
    logger.info('database logins ready', { logins: 'Logins' in request ? Object.keys(request.Logins) : [request.Service] });
  } finally {
    await db.end();
  }
}
