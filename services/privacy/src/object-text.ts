import type { Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DataHarvestError } from '@dataharvest/shared/errors';

/** About how much text a chunk of whole lines holds. */
const CHUNK_CHARS = 1024 * 1024;
/**
 * The longest line a chunk may hold: a longer one (no CSV record is over 1 MiB; a file with no line feed is) would
 * make a chunk grow without bound, and a line cut in two could not be judged as a row.
 */
const LINE_CHARS_LIMIT = 16 * 1024 * 1024;

/** A line longer than erasure holds in memory: the object is reported, not read whole. */
export class LineTooLongError extends DataHarvestError {
  constructor(readonly key: string) {
    super(`${key} has a line of more than ${LINE_CHARS_LIMIT} characters; erase it by hand`);
    this.name = 'LineTooLongError';
  }
}

/**
 * An object in S3 Glacier Flexible Retrieval or Deep Archive that is not restored: S3 refuses to read it. The
 * bucket's lifecycle moves archive/ only to Glacier Instant Retrieval, which reads as any other class; an object
 * moved colder by hand must be restored before an erasure can complete (docs/security.md).
 */
export class ObjectNotRestoredError extends DataHarvestError {
  constructor(
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(`${key} is in a Glacier storage class and not restored; restore it, then run the erasure again`, options);
    this.name = 'ObjectNotRestoredError';
  }
}

/** The object's body, only while it is the version `ifMatch` names. */
async function bodyOf(s3: S3Client, bucket: string, key: string, ifMatch?: string): Promise<Readable> {
  try {
    return (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: ifMatch }))).Body as Readable;
  } catch (error) {
    if ((error as { name?: string }).name === 'InvalidObjectState') throw new ObjectNotRestoredError(key, { cause: error });
    throw error;
  }
}

/**
 * The object's UTF-8 text in chunks of whole lines (the last may lack its line end), so that a file of any size is
 * read in bounded memory and every line-wise edit of a chunk is the edit of the whole. A line longer than
 * LINE_CHARS_LIMIT fails the read (LineTooLongError). `bytes`, when given, is fed the object's bytes as read: the
 * SHA-256 of what an erasure rewrites, for lineage.
 */
export async function* textChunks(s3: S3Client, bucket: string, key: string, ifMatch?: string, bytes?: Hash): AsyncGenerator<string> {
  const body = await bodyOf(s3, bucket, key, ifMatch);
  const decoder = new StringDecoder('utf8');
  let held = '';
  // Where held's last line ends, found in each piece as it comes: a long line is not searched again and again.
  let end = 0;
  for await (const raw of body as AsyncIterable<Buffer>) {
    bytes?.update(raw);
    const text = decoder.write(raw);
    const cut = text.lastIndexOf('\n');
    if (cut >= 0) end = held.length + cut + 1;
    held += text;
    if (held.length - end > LINE_CHARS_LIMIT) throw new LineTooLongError(key);
    if (held.length < CHUNK_CHARS || end === 0) continue;
    yield held.slice(0, end);
    held = held.slice(end);
    end = 0;
  }
  held += decoder.end();
  if (held) yield held;
}

/** The object's whole text. */
export async function textOf(s3: S3Client, bucket: string, key: string, ifMatch?: string, bytes?: Hash): Promise<string> {
  let text = '';
  for await (const chunk of textChunks(s3, bucket, key, ifMatch, bytes)) text += chunk;
  return text;
}
