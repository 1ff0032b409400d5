import type pg from 'pg';

/**
 * Each base-table row keeps the file line its record starts on (`line`, header = 1), for lineage. COPY cannot number
 * rows, so a staging table's `line` defaults to the next value of a sequence of the loading transaction's own, named
 * in a transaction-local setting: the chunks of one file, which COPY into one staging table at once, each count from
 * their own first line. Rows follow line after line except after a multi-line quoted value or a record a lenient load
 * leaves out; the validator lists those shifts, and only a load that has some pays for one UPDATE of its rows.
 * The column's default is LINE_DEFAULT (events/src/file-schemas.ts).
 */
/** The validator's view of where the load's rows lie (CsvValidator). */
export interface RowLines {
  firstRecordLine: number;
  rows: number;
  lineShifts: ReadonlyArray<readonly [number, number]>;
}

/** In the loading transaction, before the COPY: the sequence its rows' `line` comes from. */
export async function startLineNumbers(db: pg.ClientBase, sequence: string, firstLine: number): Promise<void> {
  // CACHE: a session takes its values a thousand at a time, still consecutive within it (one session per sequence).
  await db.query(`CREATE SEQUENCE ${sequence} AS integer START WITH ${Math.trunc(firstLine)} MINVALUE 1 CACHE 1000`);
  await db.query("SELECT set_config('dataharvest.line_sequence', $1::regclass::oid::text, true)", [sequence]);
}

/** After the COPY: moves the rows after each shift down to their lines, and drops the sequence. */
export async function finishLineNumbers(db: pg.ClientBase, staging: string, sequence: string, lines: RowLines): Promise<void> {
  const { firstRecordLine: first, rows, lineShifts } = lines;
  if (lineShifts.length && rows > 0) {
    // Sequence values are first + ordinal - 1; width_bucket finds the last shift at or before each (binary search).
    const from = lineShifts.map(([row]) => first + row - 1);
    await db.query(`UPDATE ${staging} SET line = line + ($2::int[])[width_bucket(line, $1::int[])] WHERE line BETWEEN $3 AND $4`, [
      from,
      lineShifts.map(([, shift]) => shift),
      from[0],
      first + rows - 1,
    ]);
  }
  await db.query(`DROP SEQUENCE ${sequence}`);
}
