import { createWriteStream, mkdirSync } from 'node:fs';
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
}

export const bundlePath = (dir: string, handler: string) => {
  const dot = handler.lastIndexOf('.');
  return { file: join(dir, `${handler.slice(0, dot)}.mjs`), exportName: handler.slice(dot + 1) };
};
