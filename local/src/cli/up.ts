import { startCloud, type LocalCloud } from '../cloud/index';
import type { Ports } from '../cloud/services';
import { announceCloud, databaseSecretArn } from './connection';
import { formatLogLine, type LogFormat } from './log-format';

export interface UpOptions {
  dataDir: string;
  ports: Ports;
  logFormat: LogFormat;
}

/** `dataharvest up`: the local cloud in the foreground until Ctrl-C, its endpoints printed for other tools. */
export async function up(opts: UpOptions): Promise<number> {
  const cloud = await startCloud({ dataDir: opts.dataDir, ports: opts.ports, log: (l, fn) => process.stdout.write(`${formatLogLine(l, opts.logFormat, fn)}\n`) });
  const forget = announceCloud(opts.dataDir, cloud);
  process.stdout.write(
    [
      `local cloud up (data in ${opts.dataDir}); Ctrl-C stops it`,
      `  S3        ${cloud.endpoints.s3}`,
      `  DynamoDB  ${cloud.endpoints.dynamodb}`,
      `  Kinesis   ${cloud.endpoints.kinesis}`,
      `  SQS       ${cloud.endpoints.sqs}`,
      `  Postgres  ${cloud.postgresUrl}  (superuser, without TLS)`,
      ...applicationLogin(cloud),
      `  functions ${cloud.functions.join(', ')}`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
  process.stdout.write('stopping…\n');
  forget();
  await cloud.stop();
  return 0;
}

/** How to log in as the functions do: with the database secret's credentials, over TLS verified by the local CA. */
function applicationLogin(cloud: LocalCloud): string[] {
  const secret = cloud.secrets.get(databaseSecretArn(cloud));
  const { username, password, dbname } = JSON.parse(secret?.value ?? '{}') as { username?: string; password?: string; dbname?: string };
  if (!username || !password) return [];
  const { host, port, caFile } = cloud.postgres;
  const url = `postgres://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${host}:${port}/${dbname ?? ''}?sslmode=verify-full&sslrootcert=${caFile}`;
  return [`            as the functions log in (TLS only, CA ${caFile}):`, `            psql "${url}"`];
}
