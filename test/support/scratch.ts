import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { memoryDir } from '../../local/src/cloud/emulators/memory-dir';

/** A test's scratch directory, with its local cloud's data dir `dataDir` inside. */
export function cloudScratch(name: string): { dir: string; dataDir: string; remove(): void } {
  const dir = memoryDir(`dataharvest-${name}-`);
  chmodSync(dir, 0o755); // PostgreSQL runs as `postgres`, who must enter the data dirs inside
  return { dir, dataDir: join(dir, 'cloud'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A checkout of its own to scaffold a new service into, so the repository (and tests running beside this one) never
 * see it: the packaged services, the toolkit and node_modules are linked, serverless-compose.yml is copied.
 */
export function scratchCheckout(): { root: string; remove(): void } {
  const repo = resolve('.');
  const root = mkdtempSync(join(tmpdir(), 'dataharvest-scaffold-'));
  chmodSync(root, 0o755);
  for (const entry of ['node_modules', 'shared', 'events', 'database', 'metastore', 'local', 'examples', 'package.json', 'package-lock.json', 'tsconfig.json']) {
    symlinkSync(join(repo, entry), join(root, entry));
  }
  mkdirSync(join(root, 'services'));
  for (const service of readdirSync(join(repo, 'services'))) symlinkSync(join(repo, 'services', service), join(root, 'services', service));
  copyFileSync(join(repo, 'serverless-compose.yml'), join(root, 'serverless-compose.yml'));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
