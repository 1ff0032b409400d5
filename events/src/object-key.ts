import { FILE_TYPES, type FileType } from './batch';

export const INCOMING_PREFIX = 'incoming/';

export type ParsedKey = { ok: true; client: string; type: FileType; batchDate: string; gzip: boolean; fileName: string } | { ok: false; client: string; fileName: string; reason: string };

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const FILE_NAME = /^([a-z]+)_(\d{8})\.csv(\.gz)?$/;

/** True when YYYYMMDD names a real calendar day. */
export function isCalendarDate(yyyymmdd: string): boolean {
  const y = Number(yyyymmdd.slice(0, 4)),
    m = Number(yyyymmdd.slice(4, 6)),
    d = Number(yyyymmdd.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  return y >= 1900 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** Parses `incoming/<client>/<type>_<YYYYMMDD>.csv[.gz]`, the only key shape persistence accepts. */
export function parseObjectKey(key: string): ParsedKey {
  const parts = key.split('/');
  const fileName = parts.at(-1) ?? key;
  const client = parts.length === 3 && CLIENT_ID.test(parts[1] ?? '') ? parts[1]! : 'unknown';
  const reject = (reason: string): ParsedKey => ({ ok: false, client, fileName, reason });
  if (!key.startsWith(INCOMING_PREFIX)) return reject(`key must start with ${INCOMING_PREFIX}`);
  if (parts.length !== 3) return reject('key must be incoming/<client>/<type>_<YYYYMMDD>.csv');
  if (client === 'unknown') return reject(`invalid client id "${parts[1]}": letters, digits, _ and - only`);
  const match = FILE_NAME.exec(fileName);
  if (!match) return reject(`file name "${fileName}" is not <type>_<YYYYMMDD>.csv`);
  const [, type, batchDate, gz] = match as unknown as [string, string, string, string | undefined];
  if (!(FILE_TYPES as readonly string[]).includes(type)) return reject(`unknown file type "${type}": expected one of ${FILE_TYPES.join(', ')}`);
  if (!isCalendarDate(batchDate)) return reject(`impossible batch date ${batchDate}`);
  return { ok: true, client, type: type as FileType, batchDate, gzip: gz !== undefined, fileName };
}

export function objectKey(client: string, fileName: string): string {
  return `${INCOMING_PREFIX}${client}/${fileName}`;
}
