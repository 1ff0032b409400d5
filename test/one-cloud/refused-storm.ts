import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalCloud } from '../../local/src/cloud/index';
import { sharedCloud } from '../support/shared-cloud';
import { type Connection, connectCloud, ingestBucket } from '../../local/src/cli/connection';

/**
 * A storm of refused files next to a good batch, through real S3 notifications: a refused header stops the read
 * of a file, and every body left unread would hold one of the S3 client's connections. Once they ran out, no file
 * of any client could be read until the function timed out. Now the good batch completes and every refused file
 * is recorded within this test's own timeout, far below the function's 900 s, as are misplaced uploads; and the
 * cloud is left with the sockets and memory it had, within a bound. The full case (256 refused 16 MiB files)
 * is this test with STORM_FILES=256 STORM_FILE_MIB=16 and its timeout raised, run by hand (docs/performance.md).
 */
const STORM = Number(process.env.STORM_FILES ?? 110);
/**
 * A refused file is read no further than its header: the rest of its body is what an unreleased stream leaves unread
 * on its connection. The storm's count, not the files' size, outruns the S3 client's sockets (50 per container, two
 * containers of persistence here).
 */
const FILE_BYTES = process.env.STORM_FILE_MIB ? Number(process.env.STORM_FILE_MIB) << 20 : 512 << 10;
/**
 * What the storm may leave behind in this process, where the cloud runs: sockets and memory, once idle
 * keep-alive connections have met the servers' 5 s keep-alive timeout. An answer the IAM proxy does not release
 * holds one socket per refused file for good (+75 to +110 measured here with the old proxy), and its unread data;
 * what stays is the cloud's own idle connections (the proxy keeps 8 per emulator at most; +19 to +34 measured).
 * Memory is what the process still holds after a full garbage collection (heap and buffers): resident memory
 * follows the collector's timing (+70 to +270 MiB measured for the same run); what is held varies less (-9 to +31 MiB in
 * full runs of the suite, whatever else the process had done). A body kept
 * per refused file would add (STORM - WARM_UP) × FILE_BYTES (50 MiB here, 4 GiB in the full case, docs/performance.md).
 */
const SOCKETS_LEFT = 48;
/**
 * The first refused files run the code paths and fill the caches a storm touches (compiled code, the SDK clients'
 * and emulators' first structures): held memory is measured from after them, so that it counts what the rest keep.
 */
const WARM_UP = 10;
const HELD_GROWTH = 32 << 20;
const SAMPLE = 'examples/sample-batch';

/** The sockets this process holds: the cloud runs in it (its emulators, the IAM proxy, their clients). */
function sockets(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // Closed since the listing.
    }
  }
  return n;
}
const DATE = '20200130';

/**
 * Heap and buffers still referenced: the least of three full collections a moment apart (buffers' memory is given
 * back by finalizers after the collection that finds them unreachable), the collector exposed for these calls only.
 */
async function held(): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
    const { heapUsed, external } = process.memoryUsage();
    least = Math.min(least, heapUsed + external);
  }
  return least;
}

/** A transactions file of about FILE_BYTES whose header has a column persistence does not know. */
function refusedFile(): Buffer {
  const row = '1,12345678,14e56786,5000,DEPOSIT,x\n';
  return Buffer.from(`record_id,accout_number,transaction_reference,amount,keyword,unexpected_column\n${row.repeat(Math.ceil(FILE_BYTES / row.length))}`);
}

describe('a storm of refused files next to a good batch of another client', () => {
  let cloud: LocalCloud;
  let on: Connection;
  beforeAll(async () => {
    cloud = await sharedCloud();
    on = connectCloud(cloud);
  }, 120_000);

  const put = (key: string, body: Buffer) => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: key, Body: body }));

  it('completes the good batch and records every refused file', async () => {
    const body = refusedFile();
    const storm = Array.from({ length: STORM }, (_, i) => `STORM_${String(i).padStart(3, '0')}`);
    const upload = async (clients: string[]) => {
      for (let i = 0; i < clients.length; i += 10) await Promise.all(clients.slice(i, i + 10).map((client) => put(`incoming/${client}/transactions_${DATE}.csv`, body)));
    };
    const settled = async (clients: string[]) => (await Promise.all(clients.map((c) => on.metastore.getBatch(c, DATE)))).map((b) => b?.files.transactions);
    const allSettled = async (clients: string[]) => {
      let files = await settled(clients);
      while (files.some((f) => f === undefined)) {
        await new Promise((r) => setTimeout(r, 500));
        files = await settled(clients);
      }
      return files;
    };
    await upload(storm.slice(0, WARM_UP));
    await allSettled(storm.slice(0, WARM_UP));
    await cloud.idle();
    const sockets0 = sockets();
    const held0 = await held();
    await upload(storm.slice(WARM_UP));
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
    const files = await allSettled(storm);
    let rejected = (await on.metastore.listClient('GOOD_CO')).rejected;
    while (rejected.length < odd.length) {
      await new Promise((r) => setTimeout(r, 500));
      rejected = (await on.metastore.listClient('GOOD_CO')).rejected;
    }
    expect(rejected.map((r) => [r.key, r.reason]).sort()).toEqual([['incoming/GOOD_CO/transactions_20200130.CSV', 'file name "transactions_20200130.CSV" is not <type>_<YYYYMMDD>.csv']]);
    for (const f of files) expect(f).toMatchObject({ status: 'REJECTED', errors: [{ line: 1, column: 'unexpected_column', reason: expect.stringMatching(/^unknown column "unexpected_column"/) }] });

    // Then the cloud keeps about what it had: what the storm opened is closed, what it read is released.
    await cloud.idle();
    let left = sockets() - sockets0;
    for (let i = 0; i < 60 && left > SOCKETS_LEFT; i++) {
      await new Promise((r) => setTimeout(r, 500));
      left = sockets() - sockets0;
    }
    expect(left).toBeLessThanOrEqual(SOCKETS_LEFT);
    expect((await held()) - held0).toBeLessThanOrEqual(HELD_GROWTH);
  }, 240_000);
});
