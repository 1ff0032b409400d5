import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import pg from 'pg';
import { z } from 'zod';
import { awsClients } from '@dataharvest/shared/aws';
import { readConfig } from '@dataharvest/shared/config';
import { applyGrants, INGEST, MIGRATOR, rolesSql } from '@dataharvest/shared/db/access';
import { lambda } from '@dataharvest/shared/handler';
import { logger } from '@dataharvest/shared/logger';
import { transaction } from '@dataharvest/shared/pg';
import { safeError } from '@dataharvest/shared/safe-error';

const Login = z.object({ username: z.string(), password: z.string() });
/** The custom resource's properties (CloudFormation passes every value as a string). */
const Properties = z.object({ Host: z.string(), Port: z.coerce.number(), Database: z.string(), MasterSecretArn: z.string(), Logins: z.record(z.string(), z.string()) });
const Env = { DB_CA_FILE: z.string().min(1) };

/**
 * The handler of the database stack's `Custom::DatabaseLogins` (properties Host, Port, Database of the proxy,
 * MasterSecretArn, and Logins: service → secret ARN): the one function that holds the master login. On every deploy it creates the migrator and ingest
 * roles and each service's login with the password of its secret, then grants what shared/database-access.json
 * lists on the tables that exist. Deleting the stack leaves the roles (the cluster is retained). CloudFormation waits
 * for the answer PUT to ResponseURL, so one is sent whatever happens.
 */
export const handler = lambda(async (event: CloudFormationCustomResourceEvent): Promise<void> => {
  let outcome: { Status: 'SUCCESS' | 'FAILED'; Reason?: string } = { Status: 'SUCCESS' };
  try {
    if (event.RequestType !== 'Delete') await createLogins(Properties.parse(event.ResourceProperties));
  } catch (error) {
    outcome = { Status: 'FAILED', Reason: (error as Error).message };
    logger.error('database logins failed', { request: event.RequestType, error: safeError(error) });
  }
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    // The pre-signed S3 URL is signed without a content type: sending one would break the signature.
    headers: { 'content-type': '' },
    body: JSON.stringify({ ...outcome, PhysicalResourceId: 'database-logins', StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId }),
  });
  if (!response.ok) throw new Error(`CloudFormation response refused: HTTP ${response.status}`);
});

async function createLogins(properties: z.infer<typeof Properties>): Promise<void> {
  const { secrets } = awsClients();
  const read = async (arn: string) => JSON.parse((await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString ?? '{}') as unknown;
  const master = Login.parse(await read(properties.MasterSecretArn));
  const logins = await Promise.all(Object.entries(properties.Logins).map(async ([service, arn]) => ({ service, ...Login.parse(await read(arn)) })));
  const { DB_CA_FILE } = readConfig(Env, process.env);
  const db = new pg.Client({
    host: properties.Host,
    port: properties.Port,
    database: properties.Database,
    user: master.username,
    password: master.password,
    ssl: { ca: [...rootCertificates, readFileSync(DB_CA_FILE, 'utf8')], rejectUnauthorized: true },
  });
  await db.connect();
  try {
    await transaction(db, async () => {
      // The services' DDL takes the same lock: no CREATE runs while ownership moves.
      await db.query("SELECT pg_advisory_xact_lock(hashtext('dataharvest:ddl'))");
      for (const statement of rolesSql({ identifier: (s) => db.escapeIdentifier(s), literal: (s) => db.escapeLiteral(s) }, logins)) await db.query(statement);
      for (const owner of [MIGRATOR, INGEST]) {
        await db.query(`SET LOCAL ROLE ${db.escapeIdentifier(owner)}`);
        await applyGrants(db);
      }
    });
    logger.info('database logins ready', { logins: logins.map((l) => l.service) });
  } finally {
    await db.end();
  }
}
