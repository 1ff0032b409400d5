import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CloudError } from '../cloud/errors';
import { LINEAGE_FILE } from '../cloud/emulators/services';
import { removeBundle } from '../cloud/lambda/unzip';
import { cloudHolding } from './connection';

/** What the local cloud writes in its data dir: reset removes these and refuses a directory holding anything else. */
const STATE = new Set([
  'checkpoints',
  'cloud.json',
  'cloud.lock',
  'cloud.log',
  'cloud.log.1',
  'dynamodb',
  'functions',
  'kinesis',
  LINEAGE_FILE,
  'postgres',
  's3',
  'secrets.json',
  'sqs-messages.json',
  'tls',
]);

/** `dataharvest reset`: the data dir's state removed, once no cloud runs on it; it asks nothing, for CI. */
export function reset(dataDir: string): number {
  if (!existsSync(dataDir)) {
    process.stdout.write(`nothing to reset: ${dataDir} does not exist\n`);
    return 0;
  }
  const pid = cloudHolding(dataDir);
  if (pid !== undefined) throw new CloudError(`a local cloud (pid ${pid}) is running on ${dataDir}: stop it (Ctrl-C in its terminal) before reset`);
  const entries = readdirSync(dataDir);
  const foreign = entries.filter((e) => !STATE.has(e));
  if (foreign.length) throw new CloudError(`${dataDir} holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}, which the local cloud did not write: not resetting it`);
  // The functions' code is unpacked read-only; removeBundle makes it writable first.
  for (const entry of entries) removeBundle(join(dataDir, entry));
  process.stdout.write(`reset ${dataDir}: the next \`dataharvest up\` starts empty\n`);
  return 0;
}
