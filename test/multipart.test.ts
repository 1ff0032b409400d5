import { createHash } from 'node:crypto';
import { CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client, type S3ServiceException, UploadPartCopyCommand } from '@aws-sdk/client-s3';
import { S3_SINGLE_REQUEST_LIMIT } from '@dataharvest/shared/load/multipart';
import { moveObject } from '@dataharvest/shared/load/objects';
import { eraseObjects } from '../services/privacy/src/erase-objects';
import { startLocalS3 } from './support/local-s3';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** S3's 5 GiB single-copy limit, lowered: these objects of a few hundred bytes take the multipart paths. */
const LIMIT = 64;
const MULTIPART = /^"[0-9a-f]{32}-(\d+)"$/;
const FRIDA = '9e40659b-8b9f-4fc4-814b-5a7b5a23b64d';
const rows = (n: number, who = (i: number) => `client-${i}`) => `record_id,client_reference,name\n${Array.from({ length: n }, (_, i) => `${i + 1},${who(i)},Name ${i}\n`).join('')}`;

/**
 * The multipart paths of archiving, quarantining and erasure, through the real code against the local S3, with the
 * single-copy limit lowered: the bytes, the metadata and the version read are what a single copy would give.
 */
describe('objects above the single-copy limit', () => {
  let local: Awaited<ReturnType<typeof startLocalS3>> | undefined;
  let s3: S3Client;
  const Bucket = 'ingest';
  const body = async (Key: string) => (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();
  const head = (Key: string) => s3.send(new HeadObjectCommand({ Bucket, Key }));
  const gone = (Key: string) =>
    head(Key).then(
      () => false,
      (e: S3ServiceException) => e.name === 'NotFound',
    );

  beforeAll(async () => {
    local = await startLocalS3('s3-multipart', Bucket);
    s3 = local.s3;
  });
  afterAll(() => local?.stop());

  it('archives and quarantines in parts, keeping the bytes and the content type', async () => {
    const text = rows(10);
    for (const [file, folder] of [
      ['clients_20200130.csv', 'archive'],
      ['clients_20200131.csv', 'quarantine'],
    ] as const) {
      const key = `incoming/BANK/${file}`;
      await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: text, ContentType: 'text/csv' }));
      await moveObject(s3, Bucket, key, folder, (await head(key)).ETag, LIMIT);
      const moved = await head(`${folder}/BANK/${file}`);
      expect([await body(`${folder}/BANK/${file}`), moved.ContentType, await gone(key)]).toEqual([text, 'text/csv', true]);
      expect(Number(MULTIPART.exec(moved.ETag!)?.[1])).toBe(Math.ceil(text.length / LIMIT));
    }
  });

  it('leaves a newer upload in place: every part is read from the version named', async () => {
    const key = 'incoming/BANK/accounts_20200130.csv';
    await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: rows(5) }));
    const first = (await head(key)).ETag;
    await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: rows(6) }));
    await moveObject(s3, Bucket, key, 'archive', first, LIMIT);
    expect([await body(key), await gone('archive/BANK/accounts_20200130.csv')]).toEqual([rows(6), true]);
  });

  it('refuses a part range outside the source, as S3 does', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'archive/BANK/small.csv', Body: 'abc' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'archive/BANK/copy.csv' }));
    const copy = (range: string) =>
      s3.send(new UploadPartCopyCommand({ Bucket, Key: 'archive/BANK/copy.csv', UploadId, PartNumber: 1, CopySource: `${Bucket}/archive/BANK/small.csv`, CopySourceRange: range }));
    await expect(copy('bytes=0-3')).rejects.toMatchObject({ name: 'InvalidRange' });
    await expect(copy('bytes=1-2')).resolves.toMatchObject({ CopyPartResult: { ETag: expect.any(String) } });
  });

  it('erases in parts: the person leaves a file above the limit, everyone else stays, a file without them is not rewritten', async () => {
    const withHer = rows(20, (i) => (i === 7 ? FRIDA : `client-${i}`));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'archive/BANK/clients_20200201.csv', Body: withHer }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'archive/BANK/clients_20200202.csv', Body: rows(20) }));
    const untouched = (await head('archive/BANK/clients_20200202.csv')).ETag;
    const person = { reference: FRIDA, names: [], holdings: [{ client: 'BANK', portfolios: [], accounts: [] }] };
    const erased = withHer.replace(`8,${FRIDA},Name 7\n`, '');
    // The archive's bytes before and after, as its batch's lineage records them.
    const archive = { key: 'archive/BANK/clients_20200201.csv', sha256Before: sha256(withHer), sha256: sha256(erased) };
    expect(await eraseObjects(s3, Bucket, person, LIMIT)).toEqual({ rewritten: { archive: 1 }, archives: [archive], notErased: [] });
    expect(await body('archive/BANK/clients_20200201.csv')).toBe(erased);
    expect((await head('archive/BANK/clients_20200201.csv')).ETag).toMatch(MULTIPART);
    expect((await head('archive/BANK/clients_20200202.csv')).ETag).toBe(untouched);
    // Again: nothing of hers is left, nothing is rewritten.
    expect(await eraseObjects(s3, Bucket, person, LIMIT)).toEqual({ rewritten: {}, archives: [], notErased: [] });
  });

  it('erases a file above the whole-text threshold by streaming it into parts, far below the single-request limit', async () => {
    // The threshold lowered from 16 MiB to 1 KiB; the single-request limit is S3's, so only the threshold streams it.
    const key = 'quarantine/STREAM/clients_20200203.csv';
    const withHer = `${rows(100, (i) => (i === 70 ? FRIDA : `client-${i}`))}101,client-x,Frida\n`;
    await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: withHer }));
    const person = { reference: FRIDA, names: ['Frida'], holdings: [{ client: 'STREAM', portfolios: [], accounts: [] }] };
    expect(await eraseObjects(s3, Bucket, person, S3_SINGLE_REQUEST_LIMIT, 1024)).toEqual({ rewritten: { quarantine: 1 }, archives: [], notErased: [] });
    expect(await body(key)).toBe(withHer.replace(`71,${FRIDA},Name 70\n`, '').replace('client-x,Frida', 'client-x,[erased]'));
    expect((await head(key)).ETag).toMatch(MULTIPART);
  });

  it('reports a streamed object whose line is longer than erasure holds, and erases the rest', async () => {
    const long = 'quarantine/LONG/clients_20200203.csv';
    const other = 'quarantine/LONG/clients_20200204.csv';
    await s3.send(new PutObjectCommand({ Bucket, Key: long, Body: `${FRIDA},${'x'.repeat(16 << 20)}` }));
    await s3.send(new PutObjectCommand({ Bucket, Key: other, Body: rows(3, () => FRIDA) }));
    const person = { reference: FRIDA, names: [], holdings: [{ client: 'LONG', portfolios: [], accounts: [] }] };
    expect(await eraseObjects(s3, Bucket, person, S3_SINGLE_REQUEST_LIMIT, 1024)).toEqual({
      rewritten: { quarantine: 1 },
      archives: [],
      notErased: [{ key: long, reason: expect.stringMatching(/^LineTooLongError: /) }],
    });
    expect(await body(other)).toBe(rows(0));
  });
});
