import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { FileType } from '@dataharvest/events/batch';
import { CsvValidator, type ValidationResult } from './csv-validator';

export interface Slice { type: FileType; client: string; batchDate: string /* YYYYMMDD */ }

const isoDate = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
const nextDay = (d: string) => new Date(Date.parse(`${isoDate(d)}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
/** Stable partition name for a slice: readable type prefix, hashed client and date (identifiers stay short and safe). */
export const partitionName = (s: Slice) => `${s.type}_${createHash('sha1').update(`${s.client}/${s.batchDate}`).digest('hex').slice(0, 16)}`;

/**
 * Validates a CSV stream while COPYing its original bytes into a fresh table for the slice, then swaps that table in
 * as the slice's partition, all in one transaction. An invalid file is read to the end for its error report and
 * leaves the previous slice untouched.
 */
export async function loadSlice(db: pg.ClientBase, slice: Slice, csv: Readable): Promise<ValidationResult & { loaded: boolean }> {
  const validator = new CsvValidator(slice.type);
  const chunks = csv[Symbol.asyncIterator]();
  const early: Buffer[] = [];
  // The COPY column list comes from the header: validate up to the end of the header first.
  while (!validator.columns) {
    const next = await chunks.next();
    if (next.done) break;
    validator.push(next.value as Buffer);
    early.push(next.value as Buffer);
  }
  if (!validator.columns || validator.failed) return drain(validator, chunks);

  const partition = partitionName(slice);
  const staging = `${partition}_loading`;
  const client = db.escapeLiteral(slice.client);
  const from = db.escapeLiteral(isoDate(slice.batchDate));
  await db.query('BEGIN');
  try {
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [partition]);
    await db.query(`DROP TABLE IF EXISTS ${staging}`);
    await db.query(`CREATE TABLE ${staging} (LIKE ${slice.type})`);
    // The CHECK lets ATTACH PARTITION skip its validation scan; the defaults fill the columns the file lacks.
    await db.query(`ALTER TABLE ${staging} ALTER COLUMN client SET DEFAULT ${client}, ALTER COLUMN batch_date SET DEFAULT ${from}, ADD CONSTRAINT ${staging}_slice CHECK (client = ${client} AND batch_date = ${from})`);
    const copy = db.query(copyFrom(`COPY ${staging} (${validator.copyColumns().join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`));
    const copied = new Promise<void>((resolve, reject) => { copy.on('finish', resolve); copy.on('error', reject); });
    const send = async (chunk: Buffer) => {
      if (!copy.write(chunk)) await new Promise((r) => copy.once('drain', r));
    };
    for (const chunk of early) await send(chunk);
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      validator.push(next.value as Buffer);
      if (validator.failed) break;
      await send(next.value as Buffer);
    }
    const result = validator.failed ? undefined : validator.end();
    if (!result || validator.failed) {
      copy.destroy(new Error('invalid file'));
      await copied.catch(() => undefined);
      await db.query('ROLLBACK');
      return result ? { ...result, loaded: false } : drain(validator, chunks);
    }
    copy.end();
    await copied;
    await db.query(`DROP TABLE IF EXISTS ${partition}`);
    await db.query(`ALTER TABLE ${staging} RENAME TO ${partition}`);
    await db.query(`ALTER TABLE ${slice.type} ATTACH PARTITION ${partition} FOR VALUES FROM (${client}, ${from}) TO (${client}, '${nextDay(slice.batchDate)}')`);
    await db.query('COMMIT');
    return { ...result, loaded: true };
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Reads an invalid file to its end, so its report counts every error. */
async function drain(validator: CsvValidator, chunks: AsyncIterator<unknown>): Promise<ValidationResult & { loaded: boolean }> {
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) validator.push(next.value as Buffer);
  return { ...validator.end(), loaded: false };
}
