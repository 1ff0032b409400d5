import { GetObjectCommand, HeadObjectCommand, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { awsClients } from '@dataharvest/shared/aws';
import { readConfig } from '@dataharvest/shared/config';
import { connectionConfig, DatabaseEnv } from '@dataharvest/shared/pg';
import { type IamProxy, type Statement, startIamProxy } from '../src/cloud/iam/proxy';
import { startServices, type Services } from '../src/cloud/emulators/services';

/** The local database path as functions meet it: a secret behind IAM, TLS required and verified, S3's 403. */
describe('the local database, its secret and TLS', () => {
  let services: Services;
  let secretArn: string;
  const proxies: IamProxy[] = [];
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const proxy = async (statements: Statement[]) => {
    const p = await startIamProxy(
      'arn:aws:sts::000000000000:assumed-role/test/fn',
      statements,
      services.endpoints,
      () => undefined,
      (id) => services.secrets.get(id)?.arn,
    );
    proxies.push(p);
    return p.endpoint;
  };

  beforeAll(async () => {
    services = await startServices();
    await services.postgres.login('app', 'app-password', 'appdb');
    secretArn = services.secrets.create('app-db', () => JSON.stringify({ username: 'app', password: 'app-password' }));
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await services?.stop();
  });

  const env = (overrides: Record<string, string> = {}) => ({
    DB_HOST: services.postgres.host,
    DB_PORT: String(services.postgres.port),
    DB_NAME: 'appdb',
    DB_SECRET_ARN: secretArn,
    DB_CA_FILE: services.postgres.caFile,
    DB_STATEMENT_TIMEOUT_MS: '1000',
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '2000',
    ...overrides,
  });

  /** How a function connects, with the secret read from the local Secrets Manager. */
  const connect = () => connectionConfig(readConfig(DatabaseEnv, env()), awsClients({ region: 'eu-central-1', credentials, endpoints: services.endpoints }).secrets);

  it('logs a function in with the secret over verified TLS, its timeouts set', async () => {
    const db = new pg.Client(await connect());
    await db.connect();
    try {
      const { rows } = await db.query(
        "SELECT current_user AS who, ssl, current_setting('statement_timeout') AS st, current_setting('idle_in_transaction_session_timeout') AS idle FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
      );
      expect(rows).toEqual([{ who: 'app', ssl: true, st: '1s', idle: '2s' }]);
      await expect(db.query('SELECT pg_sleep(3)')).rejects.toThrow('canceling statement due to statement timeout');
    } finally {
      await db.end();
    }
  });

  it('refuses the login without TLS, as RDS with rds.force_ssl does, and a server its CA did not sign', async () => {
    const plain = new pg.Client({ host: services.postgres.host, port: services.postgres.port, database: 'appdb', user: 'app', password: 'app-password' });
    await expect(plain.connect()).rejects.toThrow(/no encryption/);
    const config = await connect();
    const untrusted = new pg.Client({ ...config, ssl: { rejectUnauthorized: true } });
    await expect(untrusted.connect()).rejects.toThrow(/self-signed certificate|unable to verify|unable to get local issuer/);
  });

  it('answers GetSecretValue only to a role allowed to read that secret, with AccessDenied otherwise', async () => {
    const read = (endpoint: string) => new SecretsManagerClient({ region: 'eu-central-1', endpoint, credentials }).send(new GetSecretValueCommand({ SecretId: secretArn }));
    const allowed = await proxy([{ effect: 'Allow', actions: ['secretsmanager:GetSecretValue'], resources: [secretArn] }]);
    expect(JSON.parse((await read(allowed)).SecretString!)).toEqual({ username: 'app', password: 'app-password' });
    const other = await proxy([{ effect: 'Allow', actions: ['secretsmanager:GetSecretValue'], resources: ['arn:aws:secretsmanager:eu-central-1:000000000000:secret:other-*'] }]);
    await expect(read(other)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('answers a missing key with 403 to a role that may not list the bucket, 404 to one that may', async () => {
    const s3 = (endpoint: string) =>
      new S3Client({ region: 'eu-central-1', endpoint, credentials, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    await s3(services.endpoints.s3).send(new CreateBucketCommand({ Bucket: 'probe' }));
    const get = { effect: 'Allow' as const, actions: ['s3:GetObject'], resources: ['arn:aws:s3:::probe/*'] };
    const withoutList = s3(await proxy([get]));
    const withList = s3(await proxy([get, { effect: 'Allow', actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::probe'] }]));
    await expect(withoutList.send(new GetObjectCommand({ Bucket: 'probe', Key: 'incoming/gone.csv' }))).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    await expect(withoutList.send(new HeadObjectCommand({ Bucket: 'probe', Key: 'incoming/gone.csv' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    await expect(withList.send(new GetObjectCommand({ Bucket: 'probe', Key: 'incoming/gone.csv' }))).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  });
});
