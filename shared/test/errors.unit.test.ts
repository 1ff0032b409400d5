import { Readable } from 'node:stream';
import { DataHarvestError } from '../src/errors';
import { CorruptFileError, openCsv } from '../src/load/csv-source';
import { StaleStateError } from '../src/metastore';
import { safeError } from '../src/safe-error';

describe('the shared toolkit and the services raise DataHarvestErrors', () => {
  it('keeps the error it was raised from as cause, under its own name', () => {
    const cause = new Error('condition failed');
    const error = new StaleStateError('batch ACME/20240131 kept changing', { cause });
    expect(error).toBeInstanceOf(DataHarvestError);
    expect(error).toMatchObject({ name: 'StaleStateError', message: 'batch ACME/20240131 kept changing', cause });
  });

  it('re-throws a zlib error as the file being corrupt, the zlib error its cause, which never reaches a log', async () => {
    const { chunks } = openCsv(Readable.from([Buffer.from('not gzip at all')]), true);
    const error: unknown = await (async () => {
      for await (const _ of chunks);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptFileError);
    expect(error).toBeInstanceOf(DataHarvestError);
    expect((error as Error).cause).toMatchObject({ code: 'Z_DATA_ERROR' });
    expect(safeError(error)).toEqual({ name: 'CorruptFileError', message: expect.stringMatching(/^not a valid gzip file: /) });
  });
});
