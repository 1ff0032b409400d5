import type { FileType } from './batch';

/**
 * One schema per file type: the columns a client's file must have (matched by header name, in any order,
 * through aliases such as the real-world `accout_number`), how each value is checked, and the SQL type it loads as.
 * The checks themselves live with the validator (shared/src/load/values.ts); what each kind accepts:
 *   record_id  whole number 1..2147483647, no leading zero, unique within the file
 *   account    1 to 34 digits (kept as text: leading zeros matter)
 *   money      -?D{1,15}(.D{1,2})?  loaded as NUMERIC(17,2), never a float
 *   currency   an ISO 4217 List One code (shared/src/load/currencies.ts)
 *   uuid       8-4-4-4-12 hex digits, any version
 *   reference  1 to 64 letters, digits, - or _
 *   keyword    1 to 32 capital letters or _: permissive on purpose, since the issue names no closed set; transformers
 *              decide what a keyword means and count the ones they do not know
 *   code       1 to 16 digits or capital letters
 *   text       any UTF-8 without control characters (C0, DEL, C1; tab allowed), 1 to 200 bytes (a doubled quote counts once)
 */
export type ValueKind = 'record_id' | 'account' | 'money' | 'currency' | 'uuid' | 'reference' | 'keyword' | 'text' | 'code';

export interface ColumnSchema {
  name: string;
  kind: ValueKind;
  aliases?: readonly string[];
}

const SQL_TYPE: Record<ValueKind, string> = {
  record_id: 'integer',
  account: 'text',
  money: 'numeric(17,2)',
  currency: 'char(3)',
  uuid: 'uuid',
  reference: 'text',
  keyword: 'text',
  text: 'text',
  code: 'text',
};

const account = { name: 'account_number', kind: 'account', aliases: ['accout_number'] } as const;

export const FILE_SCHEMAS: Record<FileType, readonly ColumnSchema[]> = {
  accounts: [{ name: 'record_id', kind: 'record_id' }, account, { name: 'cash_balance', kind: 'money' }, { name: 'currency', kind: 'currency' }, { name: 'taxes_paid', kind: 'money' }],
  clients: [
    { name: 'record_id', kind: 'record_id' },
    { name: 'first_name', kind: 'text' },
    { name: 'last_name', kind: 'text' },
    { name: 'client_reference', kind: 'uuid' },
    { name: 'tax_free_allowance', kind: 'money' },
  ],
  portfolios: [{ name: 'record_id', kind: 'record_id' }, account, { name: 'portfolio_reference', kind: 'uuid' }, { name: 'client_reference', kind: 'uuid' }, { name: 'agent_code', kind: 'code' }],
  transactions: [{ name: 'record_id', kind: 'record_id' }, account, { name: 'transaction_reference', kind: 'reference' }, { name: 'amount', kind: 'money' }, { name: 'keyword', kind: 'keyword' }],
};

/**
 * The SQL of the sum of a file type's money columns over `table` (every row, each money column): a decimal with two
 * places as text, `0.00` for a type without money. What control totals and volume checks measure.
 */
export function moneySumSql(type: FileType, table: string = type): string {
  const money = FILE_SCHEMAS[type].filter((c) => c.kind === 'money').map((c) => `coalesce(sum(${c.name}), 0)`);
  // An aggregate either way: one row, also for a type without money columns (portfolios) and for an empty table.
  return `SELECT (${money.length ? money.join(' + ') : 'coalesce(sum(0), 0)'})::numeric(38,2)::text AS money_sum FROM ${table}`;
}

/** The column a header names, through its aliases; header names are compared trimmed and case-insensitively. */
export function columnForHeader(type: FileType, header: string): ColumnSchema | undefined {
  const h = header.trim().toLowerCase();
  return FILE_SCHEMAS[type].find((c) => c.name === h || c.aliases?.includes(h));
}

/**
 * The column definitions of a file type's table, the slice key first, the record's file line last; `slice` adds
 * defaults for one slice's staging table (the loader sends each row's line: CsvValidator.takeCopyData).
 */
export function columnsDdl(type: FileType, slice?: { client: string; isoDate: string }): string {
  const defaults = slice ? [` DEFAULT ${sqlLiteral(slice.client)}`, ` DEFAULT ${sqlLiteral(slice.isoDate)}`] : ['', ''];
  const key = [`client text NOT NULL${defaults[0]}`, `batch_date date NOT NULL${defaults[1]}`];
  return [...key, ...FILE_SCHEMAS[type].map((c) => `${c.name} ${SQL_TYPE[c.kind]} NOT NULL`), 'line integer'].join(', ');
}

/** The base table of a file type: partitioned by (client, batch_date) so a file's slice is replaced as a whole. */
export function baseTableDdl(type: FileType): string {
  return `CREATE TABLE IF NOT EXISTS ${type} (${columnsDdl(type)}) PARTITION BY RANGE (client, batch_date)`;
}

/**
 * Rows a lenient load left out, per slice; replaced together with the slice. `raw` is the row's first KiB as bytes:
 * a refused row may hold any byte (a NUL, broken UTF-8), which a text column would refuse.
 */
export const REJECTS_DDL = `CREATE TABLE IF NOT EXISTS rejects (client text NOT NULL, batch_date date NOT NULL, type text NOT NULL,
  line integer NOT NULL, reason text NOT NULL, raw bytea NOT NULL, PRIMARY KEY (client, batch_date, type, line))`;

/** A string as an SQL literal (standard_conforming_strings is on since PostgreSQL 9.1). */
function sqlLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
