import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataHarvestError } from '../errors';

/** The object is not what its name says (a .csv.gz that does not inflate): the file's fault, never retried. */
export class CorruptFileError extends DataHarvestError {
  override name = 'CorruptFileError';
}

export interface CsvSource {
  /** The CSV bytes, inflated when the object is gzip. */
  chunks: AsyncIterable<Buffer>;
  /** Size and SHA-256 of the object as stored: complete once `chunks` has ended. */
  digest(): { bytes: number; sha256: string };
}

/**
 * Inflating a gzip file stops, as a refusal, once it has grown past `MAX_INFLATED_BYTES`, or past
 * `MAX_INFLATION_RATIO` times the compressed bytes read (after the first `RATIO_GRACE_BYTES`): CSV compresses 3 to
 * 20 times, a gzip bomb a thousand, and is refused within a fraction of a second instead of being read to its end.
 */
export const MAX_INFLATED_BYTES = 4 * 2 ** 30;
export const MAX_INFLATION_RATIO = 100;
const RATIO_GRACE_BYTES = 64 * 2 ** 20;

/** Hashes and counts the object's bytes on the way through; inflates them after that when `gzip`. */
export function openCsv(body: Readable, gzip: boolean): CsvSource {
  const hash = createHash('sha256');
  let bytes = 0;
  async function* measured(): AsyncGenerator<Buffer> {
    for await (const chunk of body) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  }
  let sha256: string | undefined;
  const digest = () => ({ bytes, sha256: (sha256 ??= hash.digest('hex')) });
  if (!gzip) return { chunks: measured(), digest };
  const inflated = pipeline(Readable.from(measured()), createGunzip(), () => undefined);
  async function* inflate(): AsyncGenerator<Buffer> {
    try {
      let size = 0;
      for await (const chunk of inflated) {
        size += (chunk as Buffer).length;
        if (size > MAX_INFLATED_BYTES) throw new CorruptFileError(`inflates to more than ${MAX_INFLATED_BYTES} bytes: split the file`);
        if (size > RATIO_GRACE_BYTES && size > MAX_INFLATION_RATIO * bytes) throw new CorruptFileError(`inflates more than ${MAX_INFLATION_RATIO} times its size: not CSV data (a gzip bomb?)`);
        yield chunk as Buffer;
      }
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (code.startsWith('Z_')) throw new CorruptFileError(`not a valid gzip file: ${(error as Error).message}`, { cause: error });
      throw error;
    }
  }
  return { chunks: inflate(), digest };
}
