import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A test's scratch directory, with its local cloud's data dir `dataDir` inside. */
export function cloudScratch(name: string): { dir: string; dataDir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `dataharvest-${name}-`));
  chmodSync(dir, 0o755); // PostgreSQL runs as `postgres`, who must enter the data dirs inside
  return { dir, dataDir: join(dir, 'cloud'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
