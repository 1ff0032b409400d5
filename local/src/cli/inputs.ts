import { readdirSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './errors';

const CSV = /\.csv(\.gz)?$/;

/** Files named on the command line; a directory contributes its .csv and .csv.gz files. */
export function expandInputs(paths: string[]): string[] {
  if (!paths.length) throw new UsageError('name at least one file or directory');
  return paths.flatMap((path) => {
    let stat: Stats;
    try {
      stat = statSync(path);
    } catch {
      throw new UsageError(`no such file or directory: ${path}`);
    }
    if (!stat.isDirectory()) return [path];
    const files = readdirSync(path)
      .filter((f) => CSV.test(f))
      .sort()
      .map((f) => join(path, f));
    if (!files.length) throw new UsageError(`${path} holds no .csv or .csv.gz files`);
    return files;
  });
}
