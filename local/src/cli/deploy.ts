import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readCompose } from '../cloud/cloudformation/compose';
import { CloudError } from '../cloud/errors';
import { findRunningCloud } from './connection';
import { requestDeploy } from './control';
import { UsageError } from './errors';

/**
 * `dataharvest deploy <service>`: the local counterpart of `sls deploy` for one service. Packages only that service
 * (when its inputs changed) and has the `up` running on the data dir deploy it, without a restart.
 */
export async function deploy(service: string, opts: { dataDir: string; json?: boolean; root?: string }): Promise<number> {
  const root = opts.root ?? process.cwd();
  if (!readCompose(root).some((s) => s.name === service)) throw new UsageError(`serverless-compose.yml has no service ${service}`);
  const cloud = findRunningCloud(opts.dataDir);
  if (!cloud?.control) {
    throw new CloudError(`no local cloud is running on ${opts.dataDir}: start one with \`npx dataharvest up\` (on AWS: \`npm run deploy -- --stage S\`)`);
  }
  // Packaging prints its progress on stderr; stdout keeps the outcome alone.
  const packaged = spawnSync(process.execPath, [join(root, 'local/bin/package-changed.mjs'), '--only', service], { cwd: root, stdio: ['ignore', 2, 2] });
  if (packaged.status !== 0) {
    process.stderr.write(`dataharvest: packaging ${service} failed; nothing was deployed\n`);
    return 1;
  }
  const outcome = await requestDeploy(cloud.control, service);
  if ('error' in outcome) {
    process.stderr.write(`dataharvest: deploying ${service} failed: ${outcome.error}\n`);
    return 1;
  }
  const own = outcome.functions.filter((f) => f.startsWith(`dataharvest-${service}-`));
  if (opts.json) process.stdout.write(`${JSON.stringify({ service, functions: own })}\n`);
  else process.stdout.write(`deployed ${service} into the local cloud on ${opts.dataDir}: ${own.join(', ')}\n`);
  return 0;
}
