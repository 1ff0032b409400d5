import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import { startS3, type S3 } from '../src/cloud/emulators/s3';

/** The local S3 probed as an attacker or a careless client would: what it stores stays in the bucket's folder, and any key S3 allows works. */
describe('the local S3 store', () => {
  let dir: string;
  let server: S3;
  let s3: S3Client;
  const Bucket = 'ingest';
  const raw = (method: string, path: string, host?: string) =>
    new Promise<number>((resolve, reject) => {
      const { port } = new URL(server.endpoint);
      const req = request({ host: '127.0.0.1', port, method, path, headers: { host: host ?? `127.0.0.1:${port}`, 'content-length': 1 } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('x');
    });
  const body = async (Key: string) => (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();
  const list = async () => (await s3.send(new ListObjectsV2Command({ Bucket }))).Contents?.map((o) => o.Key) ?? [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 's3-store-'));
    // A data dir of an earlier version: s3rver's own layout, the key as a path.
    mkdirSync(join(dir, 's3', Bucket, 'archive', 'OLD_CO'), { recursive: true });
    writeFileSync(join(dir, 's3', Bucket, 'archive', 'OLD_CO', 'accounts_20200101.csv._S3rver_object'), 'kept');
    writeFileSync(join(dir, 's3', Bucket, 'archive', 'OLD_CO', 'accounts_20200101.csv._S3rver_metadata.json'), '{"content-type":"text/csv"}');
    server = await startS3(dir);
    s3 = new S3Client({ region: 'eu-central-1', endpoint: server.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    // The bucket's folder exists already: the earlier layout's object is in it.
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps an object of the earlier layout', async () => {
    expect(await body('archive/OLD_CO/accounts_20200101.csv')).toBe('kept');
  });

  it('stores a key with .. segments as the key it is, inside the bucket', async () => {
    const Key = 'incoming/../../../escaped/X/accounts_20200130.csv';
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'a' }));
    expect(existsSync(join(dir, 'escaped'))).toBe(false);
    expect(await body(Key)).toBe('a');
    expect(await list()).toContain(Key);
  });

  it('writes nothing outside its folder from a raw .. path or an encoded one', async () => {
    const name = `escaped-${process.pid}`;
    for (const path of [`/../../${name}`, `/..%2F..%2F${name}`, `/../${name}`, `/${Bucket}/..%2F..%2F..%2F${name}`]) {
      expect([path, await raw('PUT', path)]).toEqual([path, expect.any(Number)]);
      for (const where of [dir, join(dir, '..'), join(dir, 's3')]) expect(existsSync(join(where, `${name}._S3rver_object`))).toBe(false);
    }
  });

  it('takes keys up to 1,024 bytes and refuses longer ones as S3 does, and goes on serving', async () => {
    const long = `incoming/CO/${'é'.repeat(250)}${'x'.repeat(1024 - 12 - 500)}`;
    expect(Buffer.byteLength(long)).toBe(1024);
    await s3.send(new PutObjectCommand({ Bucket, Key: long, Body: 'long' }));
    expect(await body(long)).toBe('long');
    const error = await s3.send(new PutObjectCommand({ Bucket, Key: `${long}y`, Body: 'x' })).catch((e: S3ServiceException) => e);
    expect(error).toMatchObject({ name: 'KeyTooLongError', $metadata: { httpStatusCode: 400 } });
    expect(await body(long)).toBe('long');
  });

  it('lists and reads a key with a carriage return exactly', async () => {
    const Key = 'quarantine/CO/a\rb\x01c.csv';
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'cr' }));
    expect(await list()).toContain(Key);
    expect(await body(Key)).toBe('cr');
  });

  it('refuses a Host that is not loopback (DNS rebinding)', async () => {
    expect(await raw('GET', `/${Bucket}`, 'rebind.example')).toBe(421);
    expect(await raw('GET', `/${Bucket}`, `localhost:${new URL(server.endpoint).port}`)).toBe(200);
  });
});
