import { GetObjectCommand, paginateListObjectsV2, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { referenceHash } from '@dataharvest/events/erasure';
import type { Person } from './person';
import { redacted, uuidsIn, withoutRows } from './redact';

export const FOLDERS = ['archive', 'quarantine', 'errors'] as const;
type Folder = (typeof FOLDERS)[number];

async function* keysUnder(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<string> {
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) if (o.Key) yield o.Key;
  }
}

const read = async (s3: S3Client, bucket: string, key: string) => await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString('utf8');

/** The bank client of a settled object: `<folder>/<client>/<file>`. */
const clientOf = (key: string) => key.split('/')[1] ?? '';

/**
 * Where the person is in a settled object, by folder: an archived file (what was loaded) loses their rows and keeps
 * everyone else's as they were; a quarantined file loses their rows and has what is left of them redacted; an error
 * report is redacted. The person's accounts are theirs within their bank client only.
 */
export function erasedText(folder: Folder, text: string, person: Person, client: string): string {
  const holding = person.holdings.find((h) => h.client === client);
  const identifiers = [person.reference, ...(holding?.portfolios ?? []), ...(holding?.accounts ?? [])];
  const rows = folder === 'errors' ? text : withoutRows(text, new Set(identifiers));
  // Names are no identifiers (another person may share one), but in a report beside the person's rows they are theirs.
  return folder === 'archive' ? redacted(rows, [person.reference]) : redacted(rows, [...identifiers, ...person.names]);
}

/**
 * Rewrites every settled object of the person's bank clients (of every client when no table knew them) that holds
 * them; an object without them is left as it is, so a repeated erasure rewrites nothing. Returns counts per folder.
 */
export async function eraseObjects(s3: S3Client, bucket: string, person: Person): Promise<Record<string, number>> {
  const clients = person.holdings.length ? person.holdings.map((h) => `${h.client}/`) : [''];
  const rewritten: Record<string, number> = {};
  for (const folder of FOLDERS) {
    for (const prefix of clients) {
      for await (const key of keysUnder(s3, bucket, `${folder}/${prefix}`)) {
        const text = await read(s3, bucket, key);
        const erased = erasedText(folder, text, person, clientOf(key));
        if (erased === text) continue;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: erased, ContentType: folder === 'errors' ? 'application/json' : 'text/csv' }));
        rewritten[folder] = (rewritten[folder] ?? 0) + 1;
      }
    }
  }
  return rewritten;
}

/** The reference of the hash in the settled objects, when no table holds it (a person only in refused files). */
export async function referenceInObjects(s3: S3Client, bucket: string, salt: string, hash: string): Promise<string | undefined> {
  for (const folder of FOLDERS) {
    for await (const key of keysUnder(s3, bucket, `${folder}/`)) {
      for (const candidate of uuidsIn(await read(s3, bucket, key))) if (referenceHash(salt, candidate) === hash) return candidate;
    }
  }
  return undefined;
}
