import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import type { QualityRules } from '@dataharvest/events/quality';
import { CsvValidator } from '@dataharvest/shared/load/csv-validator';
import { evaluate } from '../../services/relationship/src/quality';
import { generateBatch } from '../src/generate/batch';

/** The rules deployed by default: the folded JSON of relationship's `qualityRules` param. */
function defaultRules(): QualityRules {
  const yml = readFileSync('services/relationship/serverless.yml', 'utf8');
  const block = /qualityRules: >-\n((?: {6}.*\n)+)/.exec(yml)![1]!;
  return JSON.parse(block.replaceAll('\n', ' ')) as QualityRules;
}

/** One CSV line's values; generated names may be quoted with a comma inside (no line breaks unless asked for). */
const values = (line: string) => [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].filter((m) => m.index < line.length || m[2] === ',').map((m) => m[1]!);

/** A file's records as the relationship step reads them: by column name. */
function records(dir: string, type: FileType, date: string): Array<Record<string, string>> {
  const [header, ...lines] = readFileSync(join(dir, `${type}_${date}.csv`), 'utf8')
    .trim()
    .split('\n');
  const names = header!.split(',').map((n) => (n === 'accout_number' ? 'account_number' : n));
  return lines.filter((l) => /^\d+,/.test(l)).map((l) => Object.fromEntries(values(l).map((v, i) => [names[i], v])));
}

/** The relationship step's orphan counts (services/relationship/src/sql.ts), computed over the files. */
function measures(dir: string, date: string) {
  const [accounts, clients, portfolios, transactions] = FILE_TYPES.map((t) => records(dir, t, date));
  const has = (rows: typeof accounts, key: string) => new Set(rows!.map((r) => r[key]));
  const accountNumbers = has(accounts, 'account_number');
  const clientRefs = has(clients, 'client_reference');
  const count = (rows: typeof accounts, ok: (r: Record<string, string>) => boolean) => rows!.filter((r) => !ok(r)).length;
  const issues = {
    portfolio_without_client: count(portfolios, (p) => clientRefs.has(p.client_reference)),
    portfolio_without_account: count(portfolios, (p) => accountNumbers.has(p.account_number)),
    transaction_without_account: count(transactions, (t) => accountNumbers.has(t.account_number)),
    account_without_portfolio: count(accounts, (a) => has(portfolios, 'account_number').has(a.account_number)),
    client_without_portfolio: count(clients, (c) => has(portfolios, 'client_reference').has(c.client_reference)),
  };
  const totals = {
    portfolio_without_client: portfolios!.length,
    portfolio_without_account: portfolios!.length,
    transaction_without_account: transactions!.length,
    account_without_portfolio: accounts!.length,
    client_without_portfolio: clients!.length,
  };
  const rest = ['duplicate_portfolio_reference', 'duplicate_client_reference', 'duplicate_account_number', ...FILE_TYPES.map((t) => `${t}_rejected_rows`)];
  return [...Object.entries(issues).map(([rule, n]) => ({ rule, count: n, total: totals[rule as keyof typeof totals] })), ...rest.map((rule) => ({ rule, count: 0, total: 1 }))];
}

describe('generateBatch', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'generate-batch-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes four files named for the date that persistence accepts, one account and client per portfolio', async () => {
    const { files, orphans } = await generateBatch({ client: 'ACME_BANK', date: '20240318', portfolios: 50, transactionsPerAccount: 4, orphanShare: 0, seed: 1, out: dir });
    expect(readdirSync(dir).sort()).toEqual(['accounts_20240318.csv', 'clients_20240318.csv', 'portfolios_20240318.csv', 'transactions_20240318.csv']);
    expect(files.map((f) => [f.type, f.rows])).toEqual([
      ['accounts', 50],
      ['clients', 50],
      ['portfolios', 50],
      ['transactions', 200],
    ]);
    expect(orphans).toBe(0);
    for (const f of files) {
      const v = new CsvValidator(f.type);
      v.push(readFileSync(f.path));
      v.end();
      expect({ type: f.type, rows: v.rows, errors: v.errors }).toEqual({ type: f.type, rows: f.rows, errors: [] });
    }
  });

  it.each([
    ['0%', 0, 0, 'PASS'],
    ['1%', 0.01, 10, 'WARN'],
    ['2%', 0.02, 20, 'FAIL'],
  ])('with --orphans %s: exactly that share of orphan transactions, and data quality %s by the default rules', async (_, share, expected, outcome) => {
    const { orphans } = await generateBatch({ client: 'C', date: '20240318', portfolios: 100, transactionsPerAccount: 10, orphanShare: share, seed: 1, out: dir });
    const batch = measures(dir, '20240318');
    expect(orphans).toBe(expected);
    expect(batch.filter((m) => m.count > 0)).toEqual(expected ? [{ rule: 'transaction_without_account', count: expected, total: 1000 }] : []);
    expect(evaluate({ rules: defaultRules(), overrides: {} }, 'C', batch).outcome).toBe(outcome);
  });

  it("keeps a client's references from day to day and varies the figures", async () => {
    await generateBatch({ client: 'C', date: '20240318', portfolios: 20, transactionsPerAccount: 2, orphanShare: 0, seed: 1, out: join(dir, 'a') });
    await generateBatch({ client: 'C', date: '20240319', portfolios: 20, transactionsPerAccount: 2, orphanShare: 0, seed: 1, out: join(dir, 'b') });
    const refs = (sub: string, date: string) => records(join(dir, sub), 'portfolios', date).map((p) => p.portfolio_reference);
    expect(refs('a', '20240318')).toEqual(refs('b', '20240319'));
    const balances = (sub: string, date: string) => records(join(dir, sub), 'accounts', date).map((a) => a.cash_balance);
    expect(balances('a', '20240318')).not.toEqual(balances('b', '20240319'));
  });
});
