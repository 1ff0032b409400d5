import { paginateListObjectsV2, PutObjectCommand, type S3Client, type _Object, type StorageClass } from '@aws-sdk/client-s3';
import { referenceHash } from '@dataharvest/events/erasure';
import { S3_SINGLE_REQUEST_LIMIT, writeInParts } from '@dataharvest/shared/load/multipart';
import { textChunks, textOf } from './object-text';
import type { Person } from './person';
import { redacted, uuidsIn, withoutRows } from './redact';

export const FOLDERS = ['archive', 'quarantine', 'errors'] as const;
type Folder = (typeof FOLDERS)[number];

type Listed = _Object & { Key: string };

async function* objectsUnder(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<Listed> {
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) if (o.Key) yield o as Listed;
  }
}

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
 * Rewrites one object with `erase` applied, in its storage class (an archive in Glacier Instant Retrieval stays
 * there); false when nothing in it changes. Above the single-request limit (S3's 5 GiB; lowered in tests) the text is
 * streamed twice, once to find whether anything changes, once into a multipart upload, in bounded memory. Both reads
 * are of the listed version: an object replaced meanwhile fails the erasure, whose retry reads the new one.
 */
async function rewrite(s3: S3Client, bucket: string, o: Listed, contentType: string, erase: (text: string) => string, limit: number): Promise<boolean> {
  const target = { Bucket: bucket, Key: o.Key, ContentType: contentType, StorageClass: o.StorageClass === 'STANDARD' ? undefined : (o.StorageClass as StorageClass | undefined) };
  const size = o.Size ?? 0;
  if (size <= limit) {
    const text = await textOf(s3, bucket, o.Key, o.ETag);
    const erased = erase(text);
    if (erased === text) return false;
    await s3.send(new PutObjectCommand({ ...target, Body: erased }));
    return true;
  }
  let changes = false;
  for await (const chunk of textChunks(s3, bucket, o.Key, o.ETag)) if ((changes = erase(chunk) !== chunk)) break;
  if (!changes) return false;
  const erased = async function* () {
    for await (const chunk of textChunks(s3, bucket, o.Key, o.ETag)) yield Buffer.from(erase(chunk), 'utf8');
  };
  await writeInParts(s3, target, erased(), size, limit);
  return true;
}

/**
 * Rewrites every settled object of the person's bank clients (of every client when no table knew them) that holds
 * them; an object without them is left as it is, so a repeated erasure rewrites nothing. Returns counts per folder.
 */
export async function eraseObjects(s3: S3Client, bucket: string, person: Person, limit = S3_SINGLE_REQUEST_LIMIT): Promise<Record<string, number>> {
  const clients = person.holdings.length ? person.holdings.map((h) => `${h.client}/`) : [''];
  const rewritten: Record<string, number> = {};
  for (const folder of FOLDERS) {
    for (const prefix of clients) {
      for await (const o of objectsUnder(s3, bucket, `${folder}/${prefix}`)) {
        const erase = (text: string) => erasedText(folder, text, person, clientOf(o.Key));
        if (!(await rewrite(s3, bucket, o, folder === 'errors' ? 'application/json' : 'text/csv', erase, limit))) continue;
        rewritten[folder] = (rewritten[folder] ?? 0) + 1;
      }
    }
  }
  return rewritten;
}

/** The reference of the hash in the settled objects, when no table holds it (a person only in refused files). */
export async function referenceInObjects(s3: S3Client, bucket: string, salt: string, hash: string): Promise<string | undefined> {
  for (const folder of FOLDERS) {
    for await (const o of objectsUnder(s3, bucket, `${folder}/`)) {
      for await (const chunk of textChunks(s3, bucket, o.Key, o.ETag)) for (const candidate of uuidsIn(chunk)) if (referenceHash(salt, candidate) === hash) return candidate;
    }
  }
  return undefined;
}
