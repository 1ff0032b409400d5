import { z } from 'zod';
import { FILE_TYPES, type FileType } from './batch';
import type { ControlDetail, ControlLine, FileReconciliation } from './control-schema';
import { BATCH_DATE_RANGE, INCOMING_PREFIX, isCalendarDate, parseObjectKey } from './object-key';

export { ControlDetail, ControlLine, FileReconciliation } from './control-schema';

/**
 * Control totals (docs/persistence.md): a client may send `incoming/<client>/control_<YYYYMMDD>.csv`, one line per
 * file type with the file's row count, the sum of its money columns and its SHA-256 as uploaded. Persistence holds
 * each file of the batch to its line, whichever arrives first; the relationship step waits until every file matches.
 */

const CONTROL_NAME = /^control_(\d{8})\.csv$/;
const HEADER = ['type', 'rows', 'money_sum', 'sha256'];
const MONEY = /^-?\d{1,20}(\.\d{1,2})?$/;
const COUNT = /^(0|[1-9]\d{0,14})$/;
/** A control file is four short lines: anything larger is not one. */
export const MAX_CONTROL_BYTES = 4096;

/** The batch date of a control file's name (`control_<YYYYMMDD>.csv`), or undefined for any other name. */
export function controlDate(fileName: string): string | undefined {
  const date = CONTROL_NAME.exec(fileName)?.[1];
  return date && isCalendarDate(date) ? date : undefined;
}

export type ParsedControl = { ok: true; lines: Record<FileType, ControlLine> } | { ok: false; errors: { line: number; column?: string; reason: string }[] };

/** Parses a control file: the header `type,rows,money_sum,sha256`, then exactly one line for each of the four file types. */
export function parseControl(text: string): ParsedControl {
  const errors: { line: number; column?: string; reason: string }[] = [];
  const records = text.replace(/\r?\n$/, '').split(/\r?\n/);
  const header = (records[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  if (header.join(',') !== HEADER.join(',')) return { ok: false, errors: [{ line: 1, reason: `the header must be ${HEADER.join(',')}` }] };
  const lines: Partial<Record<FileType, ControlLine>> = {};
  records.slice(1).forEach((record, i) => {
    const read = readLine(record, lines);
    if ('reason' in read) errors.push({ line: i + 2, ...read });
    else lines[read.type] = read.line;
  });
  const missing = FILE_TYPES.filter((t) => !lines[t]);
  if (!errors.length && missing.length) errors.push({ line: records.length + 1, reason: `no line for ${missing.join(', ')}` });
  return errors.length ? { ok: false, errors } : { ok: true, lines: lines as Record<FileType, ControlLine> };
}

/** One line of a control file, or what is wrong with it. */
function readLine(record: string, seen: Partial<Record<FileType, ControlLine>>): { type: FileType; line: ControlLine } | { column?: string; reason: string } {
  const [type = '', rows = '', money = '', sha = '', ...rest] = record.split(',').map((v) => v.trim());
  if (rest.length) return { reason: `${4 + rest.length} values, expected 4` };
  if (!(FILE_TYPES as readonly string[]).includes(type)) return { column: 'type', reason: `unknown file type: expected one of ${FILE_TYPES.join(', ')}` };
  if (seen[type as FileType]) return { column: 'type', reason: `a second line for ${type}` };
  if (!COUNT.test(rows)) return { column: 'rows', reason: 'not a whole number of rows' };
  if (!MONEY.test(money)) return { column: 'money_sum', reason: 'not a decimal with at most two places' };
  if (!/^[0-9a-fA-F]{64}$/.test(sha)) return { column: 'sha256', reason: 'not 64 hexadecimal digits' };
  return { type: type as FileType, line: { rows: Number(rows), money_sum: money, sha256: sha.toLowerCase() } };
}

/** A decimal of at most two places, in cents: exact, whatever its size. */
const cents = (money: string) => {
  const [whole = '0', part = ''] = money.replace('-', '').split('.');
  const value = BigInt(whole) * 100n + BigInt(part.padEnd(2, '0'));
  return money.startsWith('-') ? -value : value;
};
const formatCents = (value: bigint) => {
  const abs = value < 0n ? -value : value;
  return `${value < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
};

/** A loaded file's figures: its rows (and those a lenient load rejected), the sum of its loaded money columns, its SHA-256. */
export interface FoundFigures {
  rows: number;
  rejected_rows?: number;
  money_sum?: string;
  sha256?: string;
}

export type Reconciled = { outcome: 'MATCH'; note?: string } | { outcome: 'MISMATCH'; reason: string };

/**
 * Holds a file's figures to its control line. The row count is the file's (loaded and rejected rows); the money sum is
 * compared only when no row was rejected (a rejected row's amounts are not loaded). Figures only: never a value.
 */
export function reconcile(line: ControlLine, found: FoundFigures): Reconciled {
  const differences: string[] = [];
  const rows = found.rows + (found.rejected_rows ?? 0);
  if (rows !== line.rows) differences.push(`rows expected ${line.rows}, found ${rows}`);
  const notes: string[] = [];
  if (found.rejected_rows) notes.push(`money sum not compared: ${found.rejected_rows} rejected row(s) not loaded`);
  else if (found.money_sum === undefined) notes.push('money sum not compared: not measured');
  else if (cents(found.money_sum) !== cents(line.money_sum)) differences.push(`money sum expected ${formatCents(cents(line.money_sum))}, found ${formatCents(cents(found.money_sum))}`);
  if (found.sha256 === undefined) notes.push('SHA-256 not compared: not measured');
  else if (found.sha256.toLowerCase() !== line.sha256) differences.push(`SHA-256 expected ${line.sha256}, found ${found.sha256.toLowerCase()}`);
  if (differences.length) return { outcome: 'MISMATCH', reason: `does not match its control totals: ${differences.join('; ')}` };
  return notes.length ? { outcome: 'MATCH', note: notes.join('; ') } : { outcome: 'MATCH' };
}

/**
 * The clients whose delivery schedule owes a control file (`control_file`, shared/src/delivery-schedule.ts, where the
 * schedules are checked whole): all the relationship step reads of them, without the calendars.
 */
const OwesControl = z.object({ control_file: z.boolean().optional() });
export const ControlOwed = z
  .object({ defaults: OwesControl.default({}), clients: z.record(z.string(), OwesControl) })
  .transform((c) => new Set(Object.entries(c.clients).flatMap(([client, own]) => ((own.control_file ?? c.defaults.control_file) ? [client] : []))));

/** What reconciliation a batch's relations wait for, or undefined when it may relate. */
export function awaitingControl(batch: { batch_date: string; control?: ControlDetail; files: Record<string, { control?: FileReconciliation }> }, owed: boolean): string | undefined {
  const name = `control_${batch.batch_date}.csv`;
  const control = batch.control;
  if (control?.status === 'RECEIVED') {
    const pending = FILE_TYPES.filter((t) => batch.files[t]?.control?.control !== control.etag || batch.files[t]?.control?.outcome !== 'MATCH');
    return pending.length ? `files not yet reconciled with ${name}: ${pending.join(', ')}` : undefined;
  }
  if (!owed) return undefined;
  return control ? `${name} was refused: a valid control file is owed` : `${name} is owed and has not arrived`;
}

/** The client and batch date of a control file's key, `incoming/<client>/control_<YYYYMMDD>.csv`; undefined for any other key. */
export function parseControlKey(key: string): { client: string; batchDate: string; fileName: string } | undefined {
  const parsed = parseObjectKey(key);
  if (parsed.ok || parsed.client === 'unknown' || !key.startsWith(INCOMING_PREFIX)) return undefined;
  const batchDate = controlDate(parsed.fileName);
  if (!batchDate || batchDate < BATCH_DATE_RANGE.from || batchDate > BATCH_DATE_RANGE.to) return undefined;
  return { client: parsed.client, batchDate, fileName: parsed.fileName };
}
