import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import type { ChunkDescriptor } from '@dataharvest/events/chunk';
import { loadRecords } from '@dataharvest/shared/load/slice-loader';
import { ChunkTable } from '../../services/loader/src/chunk-table';
import { withHeader } from '../../services/loader/src/load-chunk';

/** What the bench asks of a loader: one chunk of the file, into the upload's staging table. */
export interface ChunkJob {
  descriptor: ChunkDescriptor;
  staging: string;
  file: string;
}

export interface ChunkDone {
  index: number;
  loaded: boolean;
  errors: unknown[];
}

/**
 * One chunk loader of `bench:chunked`, a thread of its own with its own connection, as each loader is a sandbox of
 * its own on Lambda: it validates and COPYs each chunk it is given, reading its range of the file from disk.
 */
const port = parentPort!;
const db = new pg.Client({ connectionString: (workerData as { url: string }).url });
await db.connect();
port.on('message', async (job: ChunkJob | 'end') => {
  if (job === 'end') {
    await db.end();
    port.close();
    return;
  }
  const d = job.descriptor;
  const range = createReadStream(job.file, { start: d.start, end: d.end - 1, highWaterMark: 1 << 20 });
  const body = Readable.from(withHeader(Buffer.from(d.header, 'base64'), range));
  const result = await loadRecords(db, d.type, new ChunkTable(db, d, job.staging), body, { firstLine: d.first_line });
  port.postMessage({ index: d.index, loaded: result.loaded, errors: result.errors.slice(0, 3) } satisfies ChunkDone);
});
port.postMessage('ready');
