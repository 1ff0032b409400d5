import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startCloud, type LocalCloud } from '../local/src/cloud/index';
import { type Connection, connectCloud, ingestBucket } from '../local/src/cli/connection';

/**
 * A storm of refused files next to a good batch, through real S3 notifications: a refused header stops the read
 * of a file, and every body left unread would hold one of the S3 client's connections. Once they ran out, no file
 * of any client could be read until the function timed out. Now the good batch completes and every refused file
 * is recorded within this test's own timeout, far below the function's 900 s, as are misplaced uploads.
 */
const STORM = 110;
/**
 * A refused file is read no further than its header: the rest of its body is what an unreleased stream leaves unread
 * on its connection. The storm's count, not the files' size, outruns the S3 client's sockets (50 per container, two
 * containers of persistence here).
 */
const FILE_BYTES = 512 << 10;
const SAMPLE = 'examples/sample-batch';
const DATE = '20200130';

/** A transactions file of about FILE_BYTES whose header has a column persistence does not know. */
function refusedFile(): Buffer {
  const row = '1,12345678,14e56786,5000,DEPOSIT,x\n';
  return Buffer.from(`record_id,accout_number,transaction_reference,amount,keyword,unexpected_column\n${row.repeat(Math.ceil(FILE_BYTES / row.length))}`);
}

describe('a storm of refused files next to a good batch of another client', () => {
  let cloud: LocalCloud;
  let on: Connection;
  beforeAll(async () => {
    cloud = await startCloud();
    on = connectCloud(cloud);
  }, 120_000);
  afterAll(() => cloud?.stop());

  const put = (key: string, body: Buffer) => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: key, Body: body }));

  it('completes the good batch and records every refused file', async () => {
    const body = refusedFile();
    const storm = Array.from({ length: STORM }, (_, i) => `STORM_${String(i).padStart(3, '0')}`);
    for (let i = 0; i < storm.length; i += 10) await Promise.all(storm.slice(i, i + 10).map((client) => put(`incoming/${client}/transactions_${DATE}.csv`, body)));
    for (const f of readdirSync(SAMPLE).sort()) await put(`incoming/GOOD_CO/${f}`, readFileSync(join(SAMPLE, f)));
    // The notification covers incoming/ with no suffix rule: a misplaced name there reaches persistence too, and is
    // recorded (outside incoming/ the bucket policy refuses an upload session's put).
    const odd = ['incoming/GOOD_CO/transactions_20200130.CSV'];
    for (const key of odd) await put(key, body);

    // No timed assertion: a stall shows as this test's own timeout.
    for (;;) {
      const batch = await on.metastore.getBatch('GOOD_CO', DATE);
      if (batch?.stage === 'COMPLETE') break;
      expect(batch?.stage).not.toBe('FAILED');
      await new Promise((r) => setTimeout(r, 500));
    }
    const settled = async () => (await Promise.all(storm.map((c) => on.metastore.getBatch(c, DATE)))).map((b) => b?.files.transactions);
    let files = await settled();
    while (files.some((f) => f === undefined)) {
      await new Promise((r) => setTimeout(r, 500));
      files = await settled();
    }
    let rejected = (await on.metastore.listClient('GOOD_CO')).rejected;
    while (rejected.length < odd.length) {
      await new Promise((r) => setTimeout(r, 500));
      rejected = (await on.metastore.listClient('GOOD_CO')).rejected;
    }
    expect(rejected.map((r) => [r.key, r.reason]).sort()).toEqual([['incoming/GOOD_CO/transactions_20200130.CSV', 'file name "transactions_20200130.CSV" is not <type>_<YYYYMMDD>.csv']]);
    for (const f of files) expect(f).toMatchObject({ status: 'REJECTED', errors: [{ line: 1, column: 'unexpected_column', reason: expect.stringMatching(/^unknown column "unexpected_column"/) }] });
  }, 240_000);
});
