import { join } from 'node:path';
import { FileType } from '@dataharvest/events/batch';
import { generate } from '../generate/index';
import { calendarDate } from './dates';
import { UsageError } from './errors';
import { checkNames } from './inputs';

const DEFAULT_DATE = '20200130';

const wholeNumber = (value: string | undefined, flag: string, min: number) => {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < min) throw new UsageError(`${flag} takes a whole number of at least ${min}${value === undefined ? '' : `, not ${value}`}`);
  return n;
};

const seedOf = (value: string | undefined) => (value === undefined ? 1 : wholeNumber(value, '--seed', 0));

/** `dataharvest generate --type`: a seeded, valid file of one type for benchmarks and large-file tests. */
export async function generateCommand(values: { type?: string; rows?: string; seed?: string; date?: string; out?: string }): Promise<number> {
  const type = FileType.safeParse(values.type);
  if (!type.success) throw new UsageError(`--type must be one of ${FileType.options.join(', ')}`);
  const rows = wholeNumber(values.rows, '--rows', 1);
  const date = values.date === undefined ? DEFAULT_DATE : calendarDate(values.date, '--date');
  const out = values.out ?? `${type.data}_${date}.csv`;
  await generate({ type: type.data, rows, seed: seedOf(values.seed), out });
  process.stdout.write(`wrote ${rows} ${type.data} rows to ${out}\n`);
  // Transactions name accounts 1..rows/10: a smaller accounts file makes most of them orphans, failing data quality.
  if (type.data === 'transactions') {
    process.stdout.write(`they name accounts 1 to ${Math.ceil(rows / 10)}: generate --type accounts --rows ${Math.ceil(rows / 10)} to match, or a whole batch with \`generate batch\`\n`);
  }
  return 0;
}

/** `--orphans 2%` (or 2) as a share, 0 to 1. */
export function orphanShare(value: string): number {
  const percent = Number(value.replace(/%$/, ''));
  if (!/^\d+(\.\d+)?%?$/.test(value) || !(percent <= 100)) throw new UsageError(`--orphans takes a percentage from 0% to 100%, not ${value}`);
  return percent / 100;
}

/** `dataharvest generate batch`: the four files of one batch that fits together, named for the client and date. */
export async function generateBatchCommand(values: {
  client?: string;
  date?: string;
  portfolios?: string;
  transactionsPerAccount: string;
  orphans: string;
  seed?: string;
  out?: string;
  json?: boolean;
}): Promise<number> {
  if (!values.client) throw new UsageError('--client ID is required');
  if (!values.date) throw new UsageError('--date YYYYMMDD is required');
  const client = values.client;
  checkNames(client, []);
  const date = calendarDate(values.date, '--date');
  const portfolios = wholeNumber(values.portfolios, '--portfolios', 1);
  const transactionsPerAccount = wholeNumber(values.transactionsPerAccount, '--transactions-per-account', 0);
  const share = orphanShare(values.orphans);
  const out = values.out ?? join(client, date);
  const { generateBatch } = await import('../generate/batch');
  const { files, orphans } = await generateBatch({ client, date, portfolios, transactionsPerAccount, orphanShare: share, seed: seedOf(values.seed), out });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ client, batch_date: date, out, files, orphans })}\n`);
    return 0;
  }
  for (const f of files) process.stdout.write(`wrote ${f.rows} ${f.type} rows to ${f.path}\n`);
  if (orphans) process.stdout.write(`${orphans} transaction(s) name an account the batch does not have (data quality fails the batch above 1% by default)\n`);
  process.stdout.write(`run it: npx dataharvest run ${out} --client ${client}\n`);
  return 0;
}
