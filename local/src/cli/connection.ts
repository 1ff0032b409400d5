import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalCloud } from '../cloud/index';
import { CloudError } from '../cloud/errors';
import { isAlive } from '../cloud/pid';
import { UsageError } from './errors';

/** What `dataharvest up` leaves in its data dir so that `upload` and `status` can reach the running cloud. */
interface CloudFile {
  pid: number;
  stage: string;
  env: Record<string, string>;
  exports: Record<string, string>;
}

const cloudFile = (dataDir: string) => join(dataDir, 'cloud.json');

export function announceCloud(dataDir: string, cloud: LocalCloud): () => void {
  const file: CloudFile = { pid: process.pid, stage: cloud.stage, env: cloud.env, exports: cloud.exports };
  writeFileSync(cloudFile(dataDir), JSON.stringify(file, null, 2), { mode: 0o600 });
  return () => rmSync(cloudFile(dataDir), { force: true });
}

/** Names the deployed resources of a stage: the CLI reads them from the stacks' exports, never hard-codes them. */
export interface Deployment {
  stage: string;
  exports: Record<string, string>;
}

export const metastoreTable = (d: Deployment) => exported(d, `dataharvest-${d.stage}-metastore-table`);
export const eventsStream = (d: Deployment) => exported(d, `dataharvest-${d.stage}-events-stream`);
export const ingestBucket = (d: Deployment) => exported(d, `dataharvest-${d.stage}-ingest-bucket`);
export const databaseSecretArn = (d: Deployment) => exported(d, `dataharvest-${d.stage}-database-secret-arn`);

function exported(d: Deployment, name: string): string {
  const value = d.exports[name];
  if (!value) throw new UsageError(`the deployment has no export ${name}: run \`npm run package\` and restart the local cloud`);
  return value;
}

/** Points this process's AWS clients at a cloud: sets the endpoint variables the SDK reads. */
export function useCloud(d: Deployment & { env: Record<string, string> }): void {
  Object.assign(process.env, d.env, { METASTORE_TABLE: metastoreTable(d) });
}

/** The local cloud that `dataharvest up` runs on this data dir, if one does. */
export function findRunningCloud(dataDir: string): CloudFile | undefined {
  const path = cloudFile(dataDir);
  const file = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as CloudFile) : undefined;
  return file && isAlive(file.pid) ? file : undefined;
}

/** The local cloud that `dataharvest up` is running on this data dir, this process's clients pointed at it. */
export function runningCloud(dataDir: string): Deployment {
  const file = findRunningCloud(dataDir);
  if (!file) throw new CloudError(`no local cloud is running on ${dataDir}: start one with \`npx dataharvest up\` in another terminal`);
  useCloud(file);
  return file;
}

/** The pid of a live process holding the data dir: `up` announces itself in cloud.json, any cloud claims cloud.lock. */
export function cloudHolding(dataDir: string): number | undefined {
  const lock = join(dataDir, 'cloud.lock');
  const pids = [existsSync(lock) ? Number(readFileSync(lock, 'utf8')) : undefined, findRunningCloud(dataDir)?.pid];
  return pids.find((pid): pid is number => pid !== undefined && pid > 0 && isAlive(pid));
}
