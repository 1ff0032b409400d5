import { FILE_TYPES, type FileType } from './batch';

export const INCOMING_PREFIX = 'incoming/';

/**
 * The folders persistence writes itself (staging/ for chunks of large files). The bucket notifies persistence of
 * every new object, so that a misplaced upload is recorded as refused; objects under these prefixes are its own
 * and are ignored without a record.
 */
export const OWN_PREFIXES = ['archive/', 'quarantine/', 'errors/', 'staging/'] as const;

export const isOwnObject = (key: string) => OWN_PREFIXES.some((p) => key.startsWith(p));

/** Batch dates PostgreSQL and the batch logic both handle, inclusive (YYYYMMDD compares as text). */
export const BATCH_DATE_RANGE = { from: '19000101', to: '21001231' } as const;

export type ParsedKey = { ok: true; client: string; type: FileType; batchDate: string; gzip: boolean; fileName: string } | { ok: false; client: string; fileName: string; reason: string };

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const FILE_NAME = /^([a-z]+)_(\d{8})\.csv(\.gz)?$/;
/** Longer parts of a key are quoted in a reason only this far, with their length: a reason stays small. */
const QUOTED = 64;

/** True when YYYYMMDD names a real calendar day. */
export function isCalendarDate(yyyymmdd: string): boolean {
  const y = Number(yyyymmdd.slice(0, 4)),
    m = Number(yyyymmdd.slice(4, 6)),
    d = Number(yyyymmdd.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  return y >= 1900 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

const quote = (s: string) => (s.length <= QUOTED ? `"${s}"` : `"${s.slice(0, QUOTED)}…" (${s.length} characters)`);

/** Parses `incoming/<client>/<type>_<YYYYMMDD>.csv[.gz]`, the only key shape persistence accepts. */
export function parseObjectKey(key: string): ParsedKey {
  const parts = key.split('/');
  const fileName = parts.at(-1) ?? key;
  const client = parts.length === 3 && CLIENT_ID.test(parts[1] ?? '') ? parts[1]! : 'unknown';
  const reject = (reason: string): ParsedKey => ({ ok: false, client, fileName, reason });
  if (!key.startsWith(INCOMING_PREFIX)) return reject(`key must start with ${INCOMING_PREFIX}`);
  if (parts.length !== 3) return reject('key must be incoming/<client>/<type>_<YYYYMMDD>.csv');
  if (client === 'unknown') return reject(`invalid client id ${quote(parts[1]!)}: letters, digits, _ and - only`);
  const match = FILE_NAME.exec(fileName);
  if (!match) return reject(`file name ${quote(fileName)} is not <type>_<YYYYMMDD>.csv`);
  const [, type, batchDate, gz] = match as unknown as [string, string, string, string | undefined];
  if (!(FILE_TYPES as readonly string[]).includes(type)) return reject(`unknown file type ${quote(type)}: expected one of ${FILE_TYPES.join(', ')}`);
  if (!isCalendarDate(batchDate)) return reject(`impossible batch date ${batchDate}`);
  if (batchDate < BATCH_DATE_RANGE.from || batchDate > BATCH_DATE_RANGE.to) return reject(`batch date ${batchDate} is outside 1900-01-01..2100-12-31`);
  return { ok: true, client, type: type as FileType, batchDate, gzip: gz !== undefined, fileName };
}

export function objectKey(client: string, fileName: string): string {
  return `${INCOMING_PREFIX}${client}/${fileName}`;
}
