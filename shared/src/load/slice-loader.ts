import type { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { FileType, RowError } from '@dataharvest/events/batch';
import { CopySink } from './copy-sink';
import { CorruptFileError, openCsv } from './csv-source';
import { CsvValidator } from './csv-validator';
import type { IdRuns } from './record-id-set';
import { MAX_REPORTED_ERRORS } from './report-size';
import { SliceTable, type Slice } from './slice-table';

export interface LoadOptions {
  gzip?: boolean;
  /** Load the valid rows and keep the invalid ones in `rejects`, instead of refusing the whole file. */
  lenient?: boolean;
  /** The body is a header and one range of a larger file: the file line of the range's first record. */
  firstLine?: number;
}

/** Where validated records go: a transaction with a table to COPY into, committed only for a loadable file. */
export interface LoadTarget {
  /** The table the COPY fills. */
  readonly staging: string;
  begin(): Promise<void>;
  commit(rejects: Reject[], result: { rows: number; rejectedRows: number; errors: RowError[]; errorCount: number; ids: IdRuns; sha256: string; moneySum: string }): Promise<void>;
  rollback(): Promise<void>;
}

export interface LoadResult {
  loaded: boolean;
  rows: number;
  rejectedRows: number;
  bytes: number;
  /** Of the object as stored; unknown for a file refused before it was read. */
  sha256?: string;
  /** The sum of the loaded rows' money columns (as `numeric(38,2)` prints), for a file loaded. */
  moneySum?: string;
  /** The first MAX_REPORTED_ERRORS problems, header = line 1; `errorCount` counts them all. */
  errors: RowError[];
  errorCount: number;
}

/** A lenient load keeps at most this many rejected rows (and this much of each); beyond that the file is refused. */
const MAX_KEPT_REJECTS = 10_000;
const MAX_RAW_BYTES = 1024;

export interface Reject {
  line: number;
  reason: string;
  /** The row's first KiB exactly as the file has it, any byte included. */
  raw: Buffer;
}

/**
 * A few MiB of COPY data may wait in the stream: PostgreSQL keeps reading those while the next chunk is validated,
 * instead of idling at every chunk until the stream has drained.
 */
export const COPY_STREAM_OPTIONS = { highWaterMark: 4 << 20 };

/**
 * Loads one file into its slice: validates the stream in flight and feeds COPY its valid records, encoded as they
 * are validated (copy-data.ts), into a staging table that replaces the slice in one transaction.
 * An invalid file is read to its end for a complete error count and leaves the previous slice untouched. Errors of
 * the database or of the object store are thrown, so that the invocation fails and is retried.
 */
export function loadSlice(db: pg.ClientBase, slice: Slice, body: Readable, options: LoadOptions = {}): Promise<LoadResult> {
  return loadRecords(db, slice.type, new SliceTable(db, slice), body, options);
}

/** Validates `body` as a file of `type` and COPYs it into `table`: the load of a whole file or of one chunk. */
export async function loadRecords(db: pg.ClientBase, type: FileType, table: LoadTarget, body: Readable, options: LoadOptions = {}): Promise<LoadResult> {
  const lenient = options.lenient ?? false;
  const validator = new CsvValidator(type, { keepRejected: lenient, maxErrors: MAX_REPORTED_ERRORS, firstLine: options.firstLine, copyData: true });
  const source = openCsv(body, options.gzip ?? false);
  const chunks = source.chunks[Symbol.asyncIterator]();
  const outcome = (loaded: boolean, problem?: RowError, moneySum?: string): LoadResult => ({
    loaded,
    ...(moneySum === undefined ? {} : { moneySum }),
    rows: loaded ? validator.rows : 0,
    rejectedRows: loaded ? validator.records - validator.rows : 0,
    ...source.digest(),
    errors: problem ? [problem, ...validator.errors].slice(0, MAX_REPORTED_ERRORS) : validator.errors,
    errorCount: validator.errorCount + (problem ? 1 : 0),
  });
  /** Reads an invalid file to its end, so that its report counts every error. */
  const refuse = async (problem?: RowError) => {
    validator.stopCopyData();
    for (let next = await chunks.next(); !next.done && !validator.fatal; next = await chunks.next()) validator.push(next.value);
    validator.end();
    return outcome(false, problem);
  };
  const tooMany = () => validator.records - validator.rows > MAX_KEPT_REJECTS;

  try {
    // The COPY column list comes from the header: read up to its end first.
    while (!validator.copyColumns && !validator.fatal) {
      const next = await chunks.next();
      if (next.done) {
        validator.end();
        break;
      }
      validator.push(next.value);
    }
    if (!validator.copyColumns || validator.fatal || (!lenient && validator.errorCount > 0)) return await refuse();

    await table.begin();
    // Each row's file line is the COPY data's first column (copy-data.ts).
    const copySql = `COPY ${table.staging} (line, ${validator.copyColumns.join(', ')}) FROM STDIN WITH (FORMAT binary)`;
    const sink = new CopySink(db.query(copyFrom(copySql, COPY_STREAM_OPTIONS)));
    const rejects: Reject[] = [];
    /** Sends what the validator passed; a lenient load keeps the records it left out. */
    const forward = async () => {
      for (const r of validator.rejected) {
        // A copy: a view would keep the whole chunk it lies in.
        if (rejects.length < MAX_KEPT_REJECTS) rejects.push({ line: r.line, reason: r.reason, raw: Buffer.from(validator.region.subarray(r.start, Math.min(r.end, r.start + MAX_RAW_BYTES))) });
      }
      for (const data of validator.takeCopyData()) await sink.write(data);
    };
    const abandon = async () => {
      await sink.abort();
      await table.rollback();
    };
    try {
      await forward();
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
        validator.push(next.value);
        if (validator.fatal || (!lenient && validator.errorCount > 0) || tooMany()) {
          await abandon();
          return await refuse(tooMany() ? { line: 1, reason: `more than ${MAX_KEPT_REJECTS} invalid rows: too many to load leniently` } : undefined);
        }
        await forward();
      }
      validator.end();
      await forward();
      if (validator.fatal || validator.rows === 0 || (!lenient && validator.errorCount > 0)) {
        await abandon();
        return outcome(false);
      }
      const refused = await sink.end();
      if (refused) {
        await table.rollback();
        return outcome(false, refused);
      }
      const moneySum = validator.moneySum.toString();
      await table.commit(rejects, {
        rows: validator.rows,
        rejectedRows: validator.records - validator.rows,
        errors: validator.errors,
        errorCount: validator.errorCount,
        ids: validator.idRuns(),
        sha256: source.digest().sha256,
        moneySum,
      });
      return outcome(true, undefined, moneySum);
    } catch (error) {
      await abandon().catch(() => undefined);
      throw error;
    }
  } catch (error) {
    if (!(error instanceof CorruptFileError)) throw error;
    return outcome(false, { line: 1, reason: error.message });
  }
}
