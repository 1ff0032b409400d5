import type { FileType } from './batch';

/**
 * One schema per file type: the columns a client's file must have (matched by header name, in any order,
 * through aliases such as the real-world `accout_number`), how each value is checked, and the SQL type it loads as.
 */
export type ValueKind = 'record_id' | 'account' | 'money' | 'currency' | 'uuid' | 'reference' | 'keyword' | 'text' | 'code';

export interface ColumnSchema { name: string; kind: ValueKind; aliases?: readonly string[] }

const SQL_TYPE: Record<ValueKind, string> = {
  record_id: 'integer', account: 'text', money: 'numeric(17,2)', currency: 'char(3)', uuid: 'uuid',
  reference: 'text', keyword: 'text', text: 'text', code: 'text',
};

const account = { name: 'account_number', kind: 'account', aliases: ['accout_number'] } as const;

export const FILE_SCHEMAS: Record<FileType, ColumnSchema[]> = {
  accounts: [
    { name: 'record_id', kind: 'record_id' }, account,
    { name: 'cash_balance', kind: 'money' }, { name: 'currency', kind: 'currency' }, { name: 'taxes_paid', kind: 'money' },
  ],
  clients: [
    { name: 'record_id', kind: 'record_id' }, { name: 'first_name', kind: 'text' }, { name: 'last_name', kind: 'text' },
    { name: 'client_reference', kind: 'uuid' }, { name: 'tax_free_allowance', kind: 'money' },
  ],
  portfolios: [
    { name: 'record_id', kind: 'record_id' }, account, { name: 'portfolio_reference', kind: 'uuid' },
    { name: 'client_reference', kind: 'uuid' }, { name: 'agent_code', kind: 'code' },
  ],
  transactions: [
    { name: 'record_id', kind: 'record_id' }, account, { name: 'transaction_reference', kind: 'reference' },
    { name: 'amount', kind: 'money' }, { name: 'keyword', kind: 'keyword' },
  ],
};

/** The column a header names, through its aliases; header names are compared trimmed and case-insensitively. */
export function columnForHeader(type: FileType, header: string): ColumnSchema | undefined {
  const h = header.trim().toLowerCase();
  return FILE_SCHEMAS[type].find((c) => c.name === h || c.aliases?.includes(h));
}

/** The base table of a file type: partitioned by (client, batch_date) so a file's slice is replaced as a whole. */
export function baseTableDdl(type: FileType): string {
  const columns = FILE_SCHEMAS[type].map((c) => `${c.name} ${SQL_TYPE[c.kind]} NOT NULL`);
  return `CREATE TABLE IF NOT EXISTS ${type} (client text NOT NULL, batch_date date NOT NULL, ${columns.join(', ')}) PARTITION BY RANGE (client, batch_date)`;
}
