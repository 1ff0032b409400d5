import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client, type StorageClass } from '@aws-sdk/client-s3';
import { type NotErased, referenceHash } from '@dataharvest/events/erasure';
import { S3_SINGLE_REQUEST_LIMIT, writeInParts } from '@dataharvest/shared/load/multipart';
import { type Listed, objectsUnder } from './listing';
import { notErasedBecause } from './not-erased';
import { textChunks, textOf } from './object-text';
import type { Person } from './person';
import { redacted, uuidsIn, withoutRows } from './redact';

export const FOLDERS = ['archive', 'quarantine', 'errors'] as const;
/**
 * The largest object erasure reads whole; a larger one is streamed line by line into a multipart upload, so the
 * function's memory stays flat whatever the size (a 1 GiB file would exceed the largest JavaScript string).
 */
export const WHOLE_TEXT_BYTES = 16 * 1024 ** 2;
type Folder = (typeof FOLDERS)[number];

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

/** An archived file an erasure rewrote: the SHA-256 of its bytes before and after (the lineage of its batch). */
export interface RewrittenArchive {
  key: string;
  sha256Before: string;
  sha256: string;
}

/**
 * Rewrites one object with `erase` applied, in its storage class (an archive in Glacier Instant Retrieval stays
 * there), and answers the SHA-256 of its bytes before and after; undefined when nothing in it changes. Above `whole` bytes (or the single-request limit, S3's 5 GiB; both
 * lowered in tests) the text is streamed twice, once to find whether anything changes, once into a multipart upload,
 * in bounded memory. Both reads are of the listed version: an object replaced meanwhile fails the erasure, whose
 * retry reads the new one.
 */
async function rewrite(
  s3: S3Client,
  bucket: string,
  o: Listed,
  contentType: string,
  erase: (text: string) => string,
  limit: number,
  whole: number,
): Promise<{ sha256Before: string; sha256: string } | undefined> {
  const target = { Bucket: bucket, Key: o.Key, ContentType: contentType, StorageClass: o.StorageClass === 'STANDARD' ? undefined : (o.StorageClass as StorageClass | undefined) };
  const size = o.Size ?? 0;
  const [before, after] = [createHash('sha256'), createHash('sha256')];
  if (size <= Math.min(limit, whole)) {
    const text = await textOf(s3, bucket, o.Key, o.ETag, before);
    const erased = erase(text);
    if (erased === text) return undefined;
    const body = Buffer.from(erased, 'utf8');
    await s3.send(new PutObjectCommand({ ...target, Body: body }));
    return { sha256Before: before.digest('hex'), sha256: after.update(body).digest('hex') };
  }
  let changes = false;
  for await (const chunk of textChunks(s3, bucket, o.Key, o.ETag)) if ((changes = erase(chunk) !== chunk)) break;
  if (!changes) return undefined;
  const erased = async function* () {
    for await (const chunk of textChunks(s3, bucket, o.Key, o.ETag, before)) {
      const body = Buffer.from(erase(chunk), 'utf8');
      after.update(body);
      yield body;
    }
  };
  await writeInParts(s3, target, erased(), size, limit);
  return { sha256Before: before.digest('hex'), sha256: after.digest('hex') };
}

/**
 * Rewrites every settled object of the person's bank clients (of every client when no table knew them) that holds
 * them; an object without them is left as it is, so a repeated erasure rewrites nothing. An object that cannot be
 * read or rewritten (one in Glacier, one replaced meanwhile) blocks no other: it is listed in `notErased`, and the
 * rest is erased. Returns counts per folder, and the archived files rewritten with their digests.
 */
export async function eraseObjects(
  s3: S3Client,
  bucket: string,
  person: Person,
  limit = S3_SINGLE_REQUEST_LIMIT,
  whole = WHOLE_TEXT_BYTES,
): Promise<{ rewritten: Record<string, number>; archives: RewrittenArchive[]; notErased: NotErased[] }> {
  const clients = person.holdings.length ? person.holdings.map((h) => `${h.client}/`) : [''];
  const rewritten: Record<string, number> = {};
  const notErased: NotErased[] = [];
  const archives: RewrittenArchive[] = [];
  for (const folder of FOLDERS) {
    for (const prefix of clients) {
      for await (const o of objectsUnder(s3, bucket, `${folder}/${prefix}`)) {
        const erase = (text: string) => erasedText(folder, text, person, clientOf(o.Key));
        let digests: Awaited<ReturnType<typeof rewrite>>;
        try {
          digests = await rewrite(s3, bucket, o, folder === 'errors' ? 'application/json' : 'text/csv', erase, limit, whole);
        } catch (error) {
          notErased.push(notErasedBecause(o.Key, error));
          continue;
        }
        if (!digests) continue;
        rewritten[folder] = (rewritten[folder] ?? 0) + 1;
        if (folder === 'archive') archives.push({ key: o.Key, ...digests });
      }
    }
  }
  return { rewritten, archives, notErased };
}

/**
 * The reference of the hash in the settled objects, when no table holds it (a person only in refused files). Objects
 * that cannot be read are `unread`: while the reference is not found, the person may be in one of them.
 */
export async function referenceInObjects(s3: S3Client, bucket: string, salt: string, hash: string): Promise<{ reference?: string; unread: NotErased[] }> {
  const unread: NotErased[] = [];
  for (const folder of FOLDERS) {
    for await (const o of objectsUnder(s3, bucket, `${folder}/`)) {
      try {
        for await (const chunk of textChunks(s3, bucket, o.Key, o.ETag)) for (const candidate of uuidsIn(chunk)) if (referenceHash(salt, candidate) === hash) return { reference: candidate, unread };
      } catch (error) {
        unread.push(notErasedBecause(o.Key, error));
      }
    }
  }
  return { unread };
}
