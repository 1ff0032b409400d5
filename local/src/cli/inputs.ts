import { readdirSync, type Stats, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { controlDate } from '@dataharvest/events/control';
import { objectKey, type ParsedKey, parseObjectKey } from '@dataharvest/events/object-key';
import { UsageError } from './errors';

const CSV = /\.csv(\.gz)?$/;

/** Files named on the command line; a directory contributes its .csv and .csv.gz files. */
export function expandInputs(paths: string[]): string[] {
  if (!paths.length) throw new UsageError('name at least one file or directory');
  return paths.flatMap((path) => {
    let stat: Stats;
    try {
      stat = statSync(path);
    } catch (error) {
      throw new UsageError(`no such file or directory: ${path}`, { cause: error });
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

/** A value the user typed, quoted whole when short; a long one cut, so that an error stays one readable line. */
const shown = (value: string) => (value.length <= 64 ? value : `${value.slice(0, 64)}… (${value.length} characters)`);

/**
 * The client id and every file name checked as persistence checks them, before anything is uploaded: a mistake is
 * a usage error naming every file it concerns.
 */
export function checkNames(client: string, files: string[]): ParsedKey[] {
  if (parseObjectKey(objectKey(client, 'accounts_20200101.csv')).client !== client) {
    throw new UsageError(`--client ${shown(client)} is no client id: letters, digits, _ and - only, at most 64, starting with a letter or digit`);
  }
  const keys = files.map((f) => parseObjectKey(objectKey(client, basename(f))));
  // A control file (docs/persistence.md) is no data file, and persistence takes it.
  const bad = keys.filter((k): k is Extract<ParsedKey, { ok: false }> => !k.ok && !controlDate(k.fileName));
  if (bad.length)
    throw new UsageError(`persistence would refuse ${bad.length} of ${files.length} file(s), so nothing was uploaded: ${bad.map((k) => `${shown(k.fileName)} (${k.reason})`).join('; ')}`);
  return keys;
}

/** The batch date the files name, checked before anything is uploaded (checkNames), and all files one batch. */
export function batchOf(client: string, files: string[]): string {
  const keys = checkNames(client, files);
  const dates = [...new Set(keys.map((k) => (k.ok ? k.batchDate : (controlDate(k.fileName) ?? ''))))];
  if (dates.length > 1) throw new UsageError(`one batch per run: the files name batch dates ${dates.join(', ')}`);
  return dates[0]!;
}
