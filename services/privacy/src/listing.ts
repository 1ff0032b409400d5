import { paginateListObjectsV2, type S3Client, type _Object } from '@aws-sdk/client-s3';

export type Listed = _Object & { Key: string };

/**
 * A key as S3 listed it. Asked for URL-encoded keys, S3 encodes them as a form does (`+` for a space) and says so in
 * the answer's EncodingType; a key may hold any character, and XML would turn a carriage return into a line feed.
 * An answer that does not say so (a store that ignores the request) holds the key itself.
 */
export const listedKey = (key: string, encodingType: string | undefined) => (encodingType === 'url' ? decodeURIComponent(key.replaceAll('+', ' ')) : key);

/** Every object under the prefix, each with its key exactly as stored. */
export async function* objectsUnder(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<Listed> {
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix, EncodingType: 'url' })) {
    for (const o of page.Contents ?? []) if (o.Key !== undefined) yield { ...o, Key: listedKey(o.Key, page.EncodingType) };
  }
}
