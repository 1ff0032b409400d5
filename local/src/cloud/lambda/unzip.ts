import { chmodSync, createWriteStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

interface ZipFile {
  eachEntry(): AsyncIterable<{ fileName: string }>;
  openReadStreamPromise(entry: { fileName: string }): Promise<NodeJS.ReadableStream>;
}

/** Extracts a function's deployment package, as Lambda does into /var/task. */
export async function unzip(zipFile: string, into: string): Promise<void> {
  const zip = await (yauzl as unknown as { openPromise(f: string): Promise<ZipFile> }).openPromise(zipFile);
  const root = resolve(into) + sep;
  for await (const entry of zip.eachEntry()) {
    const target = resolve(into, entry.fileName);
    // Directories come with their files; an entry escaping the target (`../`) is never written.
    if (entry.fileName.endsWith('/') || !target.startsWith(root)) continue;
    mkdirSync(dirname(target), { recursive: true });
    await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(target));
  }
  // /var/task is read-only on Lambda. Mode bits are all a local process has, and root ignores them (writes then
  // succeed locally): as any other user, a write into the code fails as it would on Lambda.
  setWritable(into, false);
}

/** Removes a directory unzip made read-only (deleting its entries needs write permission on the directories). */
export function removeBundle(dir: string): void {
  try {
    setWritable(dir, true);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  rmSync(dir, { recursive: true, force: true });
}

function setWritable(path: string, writable: boolean): void {
  const stat = statSync(path);
  if (stat.isDirectory()) {
    // A directory opens for writing before its entries are touched, and closes after.
    if (writable) chmodSync(path, stat.mode | 0o200);
    for (const entry of readdirSync(path)) setWritable(join(path, entry), writable);
    if (!writable) chmodSync(path, stat.mode & ~0o222);
  } else {
    chmodSync(path, writable ? stat.mode | 0o200 : stat.mode & ~0o222);
  }
}

export const bundlePath = (dir: string, handler: string) => {
  const dot = handler.lastIndexOf('.');
  return { file: join(dir, `${handler.slice(0, dot)}.mjs`), exportName: handler.slice(dot + 1) };
};
