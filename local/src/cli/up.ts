import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseClockTime } from '../cloud/clock';
import { readCompose } from '../cloud/cloudformation/compose';
import { CloudError } from '../cloud/errors';
import { startCloud, type LocalCloud } from '../cloud/index';
import { LINEAGE_FILE, type Ports } from '../cloud/emulators/services';
import { startConsole } from '../console/server';
import { announceCloud, connectCloud, databaseSecretArn } from './connection';
import { type Control, startControl } from './control';
import { openLogFile } from './log-file';
import { formatLogLine, type LogFormat } from './log-format';
import { notificationLine, notificationsTopic, type Watch, watchNotifications } from './notifications';

export interface UpOptions {
  dataDir: string;
  ports: Ports;
  logFormat: LogFormat;
  /** Print each notification of the notifier's topic as it arrives (`--notifications`). */
  notifications?: boolean;
  /** Template parameter values (`--chunk-size`). */
  parameters: Record<string, string>;
  /** The status console's port on 127.0.0.1 (`--console-port`; default: a free one). */
  consolePort?: number;
  /** Where the local clock starts (`--clock`): scheduled rules fire on it. */
  clock?: Date;
}

/** `dataharvest up`: the local cloud in the foreground until Ctrl-C, its endpoints printed for other tools. */
export async function up(opts: UpOptions): Promise<number> {
  // The terminal shows the function logs as they come; cloud.log keeps them for `dataharvest logs`.
  const logs = openLogFile(opts.dataDir);
  const log = (l: string, fn?: string) => {
    process.stdout.write(`${formatLogLine(l, opts.logFormat, fn)}\n`);
    logs.write(l, fn);
  };
  const cloud = await startCloud({ dataDir: opts.dataDir, ports: opts.ports, parameters: opts.parameters, log, clock: opts.clock });
  const control = await serveDeploys(cloud, opts.dataDir);
  const forget = announceCloud(opts.dataDir, cloud, control);
  const statusConsole = await startConsole(connectCloud(cloud), opts.consolePort, undefined, () => cloud.clock.now()).catch(async (error: unknown) => {
    forget();
    await control.stop();
    await cloud.stop();
    throw error;
  });
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
      `  console   ${statusConsole.url}  (status console, loopback only)`,
      `  lineage   ${join(opts.dataDir, LINEAGE_FILE)}  (OpenLineage run events, one a line)`,
      `  clock     ${cloud.clock.now().toISOString()}  (scheduled rules fire on it; \`dataharvest clock <time>\` sets it)`,
      '',
    ].join('\n'),
  );
  const watch = opts.notifications ? await watchTopic(cloud) : undefined;
  await new Promise<void>((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
  process.stdout.write('stopping…\n');
  forget();
  await control.stop();
  await watch?.stop();
  await statusConsole.stop();
  await cloud.stop();
  logs.end();
  return 0;
}

/**
 * `dataharvest deploy <service>` into this cloud: the service's packaged stack is deployed (again) as `sls deploy`
 * would, its transformer registered, and cloud.json rewritten with the exports it adds.
 */
async function serveDeploys(cloud: LocalCloud, dataDir: string): Promise<Control> {
  const control: Control = await startControl({
    async deploy(service) {
      const composed = readCompose(process.cwd()).find((s) => s.name === service);
      if (!composed) throw new CloudError(`serverless-compose.yml has no service ${service}`);
      await cloud.deploy(composed.path);
      announceCloud(dataDir, cloud, control);
      process.stdout.write(`deployed ${service}; functions ${cloud.functions.join(', ')}\n`);
      return { functions: cloud.functions };
    },
    clock(time) {
      if (time !== undefined) process.stdout.write(`clock set to ${cloud.clock.set(parseClockTime(time)).toISOString()}\n`);
      return { now: cloud.clock.now().toISOString() };
    },
  });
  return control;
}

/** Subscribes a queue of `up`'s own to the notifier's topic and prints each notification on a line. */
async function watchTopic(cloud: LocalCloud): Promise<Watch | undefined> {
  const topicArn = notificationsTopic(cloud);
  if (!topicArn) {
    process.stdout.write('notifications: the notifier is not deployed (no notifications topic); run `npm run package` and restart\n');
    return undefined;
  }
  const aws = { region: cloud.env.AWS_REGION, credentials: { accessKeyId: cloud.env.AWS_ACCESS_KEY_ID!, secretAccessKey: cloud.env.AWS_SECRET_ACCESS_KEY! } };
  const watch = await watchNotifications({
    sns: new SNSClient({ ...aws, endpoint: cloud.endpoints.sns }),
    sqs: new SQSClient({ ...aws, endpoint: cloud.endpoints.sqs }),
    topicArn,
    queueName: `dataharvest-up-notifications-${process.pid}`,
    onNotification: (n) => process.stdout.write(`${notificationLine(n)}\n`),
  });
  process.stdout.write(`notifications of ${topicArn} follow, one a line\n`);
  return watch;
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
