import { join } from 'node:path';
import { FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import { generate } from './index';

export interface BatchOptions {
  client: string;
  /** YYYYMMDD: the files' names. */
  date: string;
  portfolios: number;
  /** Transactions per account on average (each picks one of the batch's accounts at random). */
  transactionsPerAccount: number;
  /** The share (0-1) of transactions on an account the batch does not have. */
  orphanShare: number;
  seed: number;
  /** The folder the four files go to. */
  out: string;
}

export interface GeneratedFile {
  type: FileType;
  path: string;
  rows: number;
}

/** The rows of each file of a batch of N portfolios: one account and one client each, K transactions per account. */
export function batchRows(portfolios: number, transactionsPerAccount: number): Record<FileType, number> {
  return { accounts: portfolios, clients: portfolios, portfolios, transactions: portfolios * transactionsPerAccount };
}

/** How many of a batch's transactions are orphans for a share: the nearest whole number. */
export const orphanCount = (transactions: number, share: number) => Math.round(transactions * share);

/**
 * The four files of one batch, named as persistence expects (`<type>_<YYYYMMDD>.csv`) and related as the
 * relationship step checks them: portfolio k holds account k of client k, and every transaction names one of the
 * batch's accounts, but for the orphans asked for. Seeded by the seed and the client, so a client's references are
 * the same every day; the date varies the figures.
 */
export async function generateBatch(opts: BatchOptions): Promise<{ files: GeneratedFile[]; orphans: number }> {
  const rows = batchRows(opts.portfolios, opts.transactionsPerAccount);
  const orphans = orphanCount(rows.transactions, opts.orphanShare);
  const files = FILE_TYPES.map((type) => ({ type, path: join(opts.out, `${type}_${opts.date}.csv`), rows: rows[type] }));
  for (const f of files) {
    await generate({
      type: f.type,
      rows: f.rows,
      seed: opts.seed,
      client: opts.client,
      day: opts.date,
      accounts: opts.portfolios,
      ...(f.type === 'transactions' ? { orphans } : {}),
      out: f.path,
    });
  }
  return { files, orphans };
}
