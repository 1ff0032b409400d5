import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Batch, FileType } from '@dataharvest/events/batch';
import pg from 'pg';
import type { LocalCloud } from '../../local/src/cloud/index';
import { type Connection, connectCloud, ingestBucket } from '../../local/src/cli/connection';
import { DATE, fileName, type Input, type InputName, input } from './inputs';
import { differences, type Snapshot, type Snapshotter, snapshotter } from './snapshot';

/** A run that ended in no stage it could leave by itself. */
const SETTLED = new Set(['COMPLETE', 'FAILED', 'REJECTED']);

export class ChaosTimeout extends Error {
  override name = 'ChaosTimeout';
}

/** What a scenario drives the local cloud with, and compares its outcome by. */
export interface Harness {
  cloud: LocalCloud;
  on: Connection;
  /** Superuser connections to the local PostgreSQL, to watch loads and inject faults. */
  admin: pg.Pool;
  /** The deployed function whose name contains `part` (persistence, loader…). */
  fn(part: string): string;
  input(name: InputName): Promise<Input>;
  /** Uploads one file of the client's batch; resolves with its ETag. */
  put(client: string, type: FileType, body: Buffer): Promise<string>;
  /** Uploads the given files (all four by default) at once. */
  upload(client: string, files: Input, types?: readonly FileType[]): Promise<Record<string, string>>;
  /** Resolves once the probe returns a value; throws ChaosTimeout after timeoutMs. */
  until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** Waits for the batch to settle (COMPLETE, FAILED, REJECTED; of at least `generation`), then for the cloud to be idle. */
  settled(client: string, opts?: { generation?: number; timeoutMs?: number }): Promise<Batch>;
  /** The pid of a PostgreSQL backend running a COPY into the database, once one has copied at least `bytes`. */
  copying(bytes?: number, timeoutMs?: number): Promise<number>;
  /** The clean run of an input: uploaded once, nothing injected, by a client of its own (cached per cloud). */
  clean(name: InputName, ignore?: readonly string[]): Promise<Snapshot>;
  snapshot(client: string, ignore?: readonly string[]): Promise<Snapshot>;
  /** Settles the client's batch and lists where its outcome differs from the clean run of `name`. */
  compare(client: string, name: InputName, opts?: { generation?: number; ignore?: readonly string[]; timeoutMs?: number }): Promise<string[]>;
  end(): Promise<void>;
}

export function harness(cloud: LocalCloud): Harness {
  const on = connectCloud(cloud);
  const admin = new pg.Pool({ connectionString: cloud.postgresUrl, max: 2 });
  // A backend the chaos kills takes the pool's idle clients with it: those errors are the fault itself.
  admin.on('error', () => undefined);
  const snapshots: Snapshotter = snapshotter(cloud, on);
  const cleanRuns = new Map<string, Promise<Snapshot>>();
  const until: Harness['until'] = async (what, probe, timeoutMs = 120_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > end) throw new ChaosTimeout(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const h: Harness = {
    cloud,
    on,
    admin,
    fn(part) {
      const name = cloud.functions.find((f) => f.includes(part));
      if (!name) throw new Error(`no deployed function's name contains ${part}`);
      return name;
    },
    input,
    async put(client, type, body) {
      const out = await on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: `incoming/${client}/${fileName(type)}`, Body: body }));
      return out.ETag!;
    },
    async upload(client, files, types = Object.keys(files) as FileType[]) {
      return Object.fromEntries(await Promise.all(types.map(async (t) => [t, await h.put(client, t, files[t])] as const)));
    },
    until,
    async settled(client, { generation = 1, timeoutMs = 120_000 } = {}) {
      let last: Batch | undefined;
      const batch = await until(
        `${client}'s batch to settle`,
        async () => {
          last = await on.metastore.getBatch(client, DATE);
          return last && SETTLED.has(last.stage) && last.generation >= generation ? last : undefined;
        },
        timeoutMs,
      ).catch(async (e: Error) => {
        // What the steps recorded of their failed attempts is what explains a batch that never settled.
        const failures = (await on.metastore.listFailures(client, DATE)).map((f) => `${f.function}${f.gave_up ? ' gave up' : ''}: ${f.reason.slice(0, 200)}`);
        const why = failures;
        throw new ChaosTimeout(`${e.message} (stage ${last?.stage ?? 'none'}, generation ${last?.generation ?? '-'}${why.length ? `; ${why.join('; ')}` : ''})`);
      });
      // Whatever the faults left queued (retries, replays) runs out before the outcome is read.
      await cloud.idle({ quietMs: 1500, timeoutMs });
      return batch;
    },
    copying: (bytes = 1, timeoutMs = 60_000) =>
      until(
        'a COPY in progress',
        async () => {
          const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_progress_copy WHERE bytes_processed >= $1 LIMIT 1', [bytes]);
          return rows[0]?.pid;
        },
        timeoutMs,
      ),
    clean(name, ignore = []) {
      const key = `${name}:${ignore.join(',')}`;
      let run = cleanRuns.get(key);
      if (!run) {
        const client = `CHAOS_CLEAN_${name.toUpperCase()}`;
        run = (async () => {
          // The same input's clean run is uploaded once per cloud; a second `ignore` only reads it again.
          if (!(await on.metastore.getBatch(client, DATE))) await h.upload(client, await input(name));
          await h.settled(client);
          return h.snapshot(client, ignore);
        })();
        cleanRuns.set(key, run);
      }
      return run;
    },
    snapshot: (client, ignore) => snapshots.take(client, DATE, ignore),
    async compare(client, name, { generation, ignore, timeoutMs } = {}) {
      const expected = await h.clean(name, ignore);
      await h.settled(client, { generation, timeoutMs });
      return differences(expected, await h.snapshot(client, ignore));
    },
    async end() {
      await snapshots.end();
      await admin.end();
    },
  };
  return h;
}
