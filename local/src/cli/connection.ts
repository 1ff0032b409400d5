import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AwsClients, awsClients } from '@dataharvest/shared/aws';
import { createMetastore, type Metastore } from '@dataharvest/shared/metastore';
import type { LocalCloud } from '../cloud/index';
import { CloudError } from '../cloud/errors';
import { isAlive } from '../cloud/emulators/pid';
import type { ControlAddress } from './control';
import { UsageError } from './errors';

/** What `dataharvest up` leaves in its data dir so that `upload` and `status` can reach the running cloud. */
interface CloudFile {
  pid: number;
  stage: string;
  env: Record<string, string>;
  exports: Record<string, string>;
  /** Where `up` takes commands (`dataharvest deploy`). */
  control?: ControlAddress;
}

const cloudFile = (dataDir: string) => join(dataDir, 'cloud.json');

/** Writes (again, after a deploy adds exports) what other commands need to reach the cloud; returns its removal. */
export function announceCloud(dataDir: string, cloud: LocalCloud, control?: ControlAddress): () => void {
  const file: CloudFile = { pid: process.pid, stage: cloud.stage, env: cloud.env, exports: cloud.exports, control };
  writeFileSync(cloudFile(dataDir), JSON.stringify(file, null, 2), { mode: 0o600 });
  return () => rmSync(cloudFile(dataDir), { force: true });
}

/** Names the deployed resources of a stage: the CLI reads them from the stacks' exports, never hard-codes them. */
export interface Deployment {
  stage: string;
  exports: Record<string, string>;
}

export const metastoreTable = (d: Deployment) => exported(d, `dataharvest-${d.stage}-metastore-table`);
export const clientTrackingTable = (d: Deployment) => exported(d, `dataharvest-${d.stage}-client-tracking-table`);
export const eventsStream = (d: Deployment) => exported(d, `dataharvest-${d.stage}-events-stream`);
export const ingestBucket = (d: Deployment) => exported(d, `dataharvest-${d.stage}-ingest-bucket`);
export const databaseSecretArn = (d: Deployment) => exported(d, `dataharvest-${d.stage}-database-secret-arn`);

function exported(d: Deployment, name: string): string {
  const value = d.exports[name];
  if (!value) throw new UsageError(`the deployment has no export ${name}: run \`npm run package\` and restart the local cloud`);
  return value;
}

/** What a command works with: the deployment's names, AWS clients that reach it, and its metastore. */
export interface Connection {
  deployment: Deployment;
  aws: AwsClients;
  metastore: Metastore;
  /** The local cloud's SQS (fauxqs); none on a deployed stage, where the region's endpoint is used. */
  sqsEndpoint?: string;
}

export const connection = (deployment: Deployment, aws: AwsClients): Connection => ({ deployment, aws, metastore: createMetastore(aws.dynamo, metastoreTable(deployment)) });

/** Clients for a local cloud: the region, keys and endpoints of its environment (cloud.json), passed explicitly. */
export function connectCloud(d: Deployment & { env: Record<string, string> }): Connection {
  const { env } = d;
  const aws = awsClients({
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    endpoints: { s3: env.AWS_ENDPOINT_URL_S3, dynamodb: env.AWS_ENDPOINT_URL_DYNAMODB, kinesis: env.AWS_ENDPOINT_URL_KINESIS, secretsmanager: env.AWS_ENDPOINT_URL_SECRETS_MANAGER },
  });
  return { ...connection({ stage: d.stage, exports: d.exports }, aws), sqsEndpoint: env.AWS_ENDPOINT_URL_SQS };
}

/** The local cloud that `dataharvest up` runs on this data dir, if one does. */
export function findRunningCloud(dataDir: string): CloudFile | undefined {
  const path = cloudFile(dataDir);
  const file = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as CloudFile) : undefined;
  return file && isAlive(file.pid) ? file : undefined;
}

/** The local cloud that `dataharvest up` is running on this data dir, with clients that reach it. */
export function runningCloud(dataDir: string): Connection {
  const file = findRunningCloud(dataDir);
  if (!file) throw new CloudError(`no local cloud is running on ${dataDir}: start one with \`npx dataharvest up\` in another terminal`);
  return connectCloud(file);
}

/** The pid of a live process holding the data dir: `up` announces itself in cloud.json, any cloud claims cloud.lock. */
export function cloudHolding(dataDir: string): number | undefined {
  const lock = join(dataDir, 'cloud.lock');
  const pids = [existsSync(lock) ? Number(readFileSync(lock, 'utf8')) : undefined, findRunningCloud(dataDir)?.pid];
  return pids.find((pid): pid is number => pid !== undefined && pid > 0 && isAlive(pid));
}
