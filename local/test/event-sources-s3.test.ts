import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import fc from 'fast-check';
import { encodeS3Key, matchS3Event, matchS3Rule, notificationRules, s3NotificationEvent, type S3rverEvent } from '../src/cloud/event-sources/s3-notifications';
import { startS3, type S3 } from '../src/cloud/emulators/s3';
import { waitFor } from './event-sources-helpers';

describe('S3 notifications', () => {
  let dir: string;
  let server: S3;
  let s3: S3Client;
  const emitted: S3rverEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 's3-'));
    server = await startS3(dir);
    server.onEvent((e) => emitted.push(e));
    s3 = new S3Client({ region: 'eu-central-1', endpoint: server.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'ingest' }));
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const next = async (write: () => Promise<unknown>) => {
    const before = emitted.length;
    await write();
    return waitFor('the s3rver event', () => emitted[before]);
  };

  it('turns what s3rver emits for a put into the event S3 delivers, key URL-encoded', async () => {
    const key = 'incoming/EXT CLIENT/accounts_20240131 (1).csv';
    const raw = await next(() => s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: key, Body: 'a,b\n1,2' })));
    const event = s3NotificationEvent(raw, 'persist-notification');

    expect(event.Records).toHaveLength(1);
    expect(event.Records[0]).toEqual({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-central-1',
      eventTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: expect.any(String) },
      requestParameters: { sourceIPAddress: expect.any(String) },
      responseElements: { 'x-amz-request-id': expect.any(String), 'x-amz-id-2': expect.any(String) },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'persist-notification',
        bucket: { name: 'ingest', ownerIdentity: { principalId: expect.any(String) }, arn: 'arn:aws:s3:::ingest' },
        object: { key: 'incoming/EXT+CLIENT/accounts_20240131+%281%29.csv', size: 7, eTag: expect.stringMatching(/^[0-9a-f]{32}$/), sequencer: expect.any(String) },
      },
    });
  });

  it('names a completed multipart upload CompleteMultipartUpload, as S3 does', async () => {
    const body = Buffer.alloc(6 * 1024 * 1024, 'x');
    const raw = await next(() => new Upload({ client: s3, params: { Bucket: 'ingest', Key: 'big.csv', Body: body }, partSize: 5 * 1024 * 1024 }).done());
    expect(s3NotificationEvent(raw, 'c').Records[0]!.eventName).toBe('ObjectCreated:CompleteMultipartUpload');
  });

  it("gives a copy's event the copy's eTag, as S3 does (s3rver leaves it out)", async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'source.csv', Body: 'a,b\n1,2' }));
    let copied: { CopyObjectResult?: { ETag?: string } } = {};
    const raw = await next(async () => {
      copied = await s3.send(new CopyObjectCommand({ Bucket: 'ingest', Key: 'incoming/c/copy.csv', CopySource: 'ingest/source.csv' }));
    });
    const record = s3NotificationEvent(raw, 'c').Records[0]!;
    expect(record.eventName).toBe('ObjectCreated:Copy');
    expect(record.s3.object).toEqual({ key: 'incoming/c/copy.csv', size: 7, eTag: copied.CopyObjectResult!.ETag!.replaceAll('"', ''), sequencer: expect.any(String) });
  });

  it('refuses at deploy a notification for anything but created objects, which alone are notified as S3 does', () => {
    const bucket = (Event: string) => ({ NotificationConfiguration: { LambdaConfigurations: [{ Event, Function: 'arn:aws:lambda:eu-central-1:000000000000:function:f' }] } });
    expect(notificationRules('ingest', bucket('s3:ObjectCreated:*'))).toEqual([{ bucket: 'ingest', events: ['s3:ObjectCreated:*'], functionName: 'f' }]);
    expect(() => notificationRules('ingest', bucket('s3:ObjectRemoved:*'))).toThrow(
      'NotificationConfiguration event s3:ObjectRemoved:* is not emulated by the local cloud (only s3:ObjectCreated:* events are)',
    );
  });

  it('leaves size and eTag out of a deletion', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'gone.csv', Body: 'x' }));
    const raw = await next(() => s3.send(new DeleteObjectCommand({ Bucket: 'ingest', Key: 'gone.csv' })));
    const record = s3NotificationEvent(raw, 'c').Records[0]!;
    expect(record.eventName).toBe('ObjectRemoved:Delete');
    expect(record.s3.object).toEqual({ key: 'gone.csv', sequencer: expect.any(String) });
  });

  it('matches notification rules on event type, prefix and suffix', () => {
    expect(matchS3Event('ObjectCreated:Put', ['s3:ObjectCreated:*'])).toBe(true);
    expect(matchS3Event('ObjectCreated:CompleteMultipartUpload', ['s3:ObjectCreated:Put'])).toBe(false);
    expect(matchS3Event('ObjectRemoved:Delete', ['s3:ObjectCreated:*'])).toBe(false);
    expect(matchS3Rule('incoming/c/accounts_20240131.csv', { prefix: 'incoming/', suffix: '.csv' })).toBe(true);
    expect(matchS3Rule('incoming/c/accounts_20240131.csv.gz', { prefix: 'incoming/', suffix: '.csv' })).toBe(false);
    expect(matchS3Rule('archive/c/accounts_20240131.csv', { prefix: 'incoming/' })).toBe(false);
    expect(matchS3Rule('anything', {})).toBe(true);
  });

  it('matches prefix and suffix rules on the URL-encoded key, as S3 does', () => {
    expect(matchS3Rule('my folder/x.csv', { prefix: 'my folder/' })).toBe(false);
    expect(matchS3Rule('my folder/x.csv', { prefix: 'my+folder/' })).toBe(true);
    expect(matchS3Rule('in/report (1).csv', { suffix: '(1).csv' })).toBe(false);
    expect(matchS3Rule('in/report (1).csv', { suffix: '%281%29.csv' })).toBe(true);
    expect(matchS3Rule('in/zürich.csv', { prefix: 'in/z%C3%BC' })).toBe(true);
  });

  it('encodes keys so that form-decoding gives them back, with only safe characters left', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (key) => {
        const encoded = encodeS3Key(key);
        expect(encoded).toMatch(/^[A-Za-z0-9.*_\-+%/]*$/);
        expect(decodeURIComponent(encoded.replaceAll('+', ' '))).toBe(key);
      }),
    );
  });
});
