import type { Readable } from 'node:stream';
import { RangeScan, type RecordStart, recordStarts } from './record-bounds';

/** Reads the object's bytes [start, end). */
export type RangeReader = (start: number, end: number) => Promise<Readable>;

export interface ChunkRange {
  index: number;
  start: number;
  end: number;
  /** The file line of the range's first record (header = 1). */
  firstLine: number;
}

export interface ChunkPlan {
  /** The header record, line break included, as the file has it. */
  header: { start: number; end: number };
  chunks: ChunkRange[];
}

/** Ranges scanned at once: each is one ranged GET, so a few in parallel keep the network busy. */
const PARALLEL_READS = 4;

/**
 * Cuts an object of `size` bytes into as many equal ranges as `chunkSize` asks for (equal, so that loaders running side
 * by side finish together), each moved to begin at a record start, reading every
 * byte once in ranged GETs, `PARALLEL_READS` at a time, and holding one network chunk of each at most. Undefined when
 * the file has no record after its header (the single path reports that).
 */
export async function planChunks(read: RangeReader, size: number, chunkSize: number): Promise<ChunkPlan | undefined> {
  const count = Math.ceil(size / chunkSize);
  const step = Math.ceil(size / count);
  const starts = Array.from({ length: count }, (_, i) => i * step);
  const scans = await mapLimited(starts, PARALLEL_READS, async (start) => {
    const scan = new RangeScan();
    for await (const chunk of await read(start, Math.min(start + step, size))) scan.push(chunk as Buffer);
    return scan;
  });
  const [header, ...rest] = recordStarts(starts, scans);
  if (!header || header.offset >= size) return undefined;
  const bounds: RecordStart[] = [{ offset: header.offset, line: header.line }, ...rest.filter((r) => r.offset > header.offset && r.offset < size)];
  return {
    header: { start: 0, end: header.offset },
    chunks: bounds.map((b, index) => ({ index, start: b.offset, end: bounds[index + 1]?.offset ?? size, firstLine: b.line })),
  };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  // After a failure no new item starts, so nothing is left reading once the caller has its error.
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      results[i] = await fn(items[i]!).catch((error: unknown) => {
        failed = true;
        throw error;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
