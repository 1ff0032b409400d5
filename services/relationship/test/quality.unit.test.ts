import { readConfig } from '@dataharvest/shared/config';
import { evaluate, failureReason, type Measure, measures, QualityEnv, RULE_NAMES } from '../src/quality';

/** Every rule a warning but the two the issue names as errors. */
const RULES = Object.fromEntries(RULE_NAMES.map((n) => [n, { severity: 'warning' }]));
const config = (overrides = {}, rules: Record<string, unknown> = {}) => {
  const env = { QUALITY_RULES: JSON.stringify({ ...RULES, ...rules }), QUALITY_OVERRIDES: JSON.stringify(overrides) };
  const parsed = readConfig(QualityEnv, env);
  return { rules: parsed.QUALITY_RULES, overrides: parsed.QUALITY_OVERRIDES };
};
const STRICT = { transaction_without_account: { severity: 'error', threshold: 0.01 }, portfolio_without_client: { severity: 'error' } };
const only = (rule: string, count: number, total: number): Measure[] => RULE_NAMES.map((r) => (r === rule ? { rule, count, total } : { rule: r, count: 0, total }));

describe('data-quality rules', () => {
  it('passes a clean batch and warns on an orphan below its threshold', () => {
    expect(evaluate(config({}, STRICT), 'C', only('transaction_without_account', 0, 1000)).outcome).toBe('PASS');
    const one = evaluate(config({}, STRICT), 'C', only('transaction_without_account', 1, 1000));
    expect(one.outcome).toBe('WARN');
    expect(one.rules.find((r) => r.rule === 'transaction_without_account')).toEqual({
      rule: 'transaction_without_account',
      severity: 'error',
      count: 1,
      total: 1000,
      ratio: 0.001,
      threshold: 0.01,
      outcome: 'WARN',
    });
  });

  it('fails above the threshold, at exactly it passes with a warning; an error without threshold fails on one row', () => {
    expect(evaluate(config({}, STRICT), 'C', only('transaction_without_account', 11, 1000)).outcome).toBe('FAIL');
    expect(evaluate(config({}, STRICT), 'C', only('transaction_without_account', 10, 1000)).outcome).toBe('WARN');
    const failed = evaluate(config({}, STRICT), 'C', only('portfolio_without_client', 1, 5000));
    expect(failed.outcome).toBe('FAIL');
    expect(failureReason(failed)).toBe('data-quality rules failed: portfolio_without_client 1 of 5000 rows (0.02%, threshold 0.00%)');
  });

  it('a warning never fails, whatever the share', () => {
    expect(evaluate(config(), 'C', only('transaction_without_account', 400, 1000)).outcome).toBe('WARN');
  });

  it("lets a client's named override through as OVERRIDDEN, and leaves other clients to the defaults", () => {
    const overrides = { ACME: { name: 'CHG-42 migration', rules: { transaction_without_account: { threshold: 0.5 } } } };
    const acme = evaluate(config(overrides, STRICT), 'ACME', only('transaction_without_account', 400, 1000));
    expect(acme).toMatchObject({ outcome: 'OVERRIDDEN', override: 'CHG-42 migration' });
    expect(acme.rules.find((r) => r.rule === 'transaction_without_account')).toMatchObject({ severity: 'error', threshold: 0.5, outcome: 'OVERRIDDEN' });
    expect(evaluate(config(overrides, STRICT), 'OTHER', only('transaction_without_account', 400, 1000))).toMatchObject({ outcome: 'FAIL' });
    const downgraded = { ACME: { name: 'warn only', rules: { portfolio_without_client: { severity: 'warning' } } } };
    expect(evaluate(config(downgraded, STRICT), 'ACME', only('portfolio_without_client', 3, 10)).outcome).toBe('OVERRIDDEN');
    // An override that changes nothing that would have failed leaves the outcome as it is, named still.
    expect(evaluate(config(overrides, STRICT), 'ACME', only('transaction_without_account', 1, 1000))).toMatchObject({ outcome: 'WARN', override: 'CHG-42 migration' });
  });

  it('measures rejected rows per file against the rows the file had', () => {
    const files = { transactions: { status: 'PERSISTED' as const, key: 'k', rows: 90, rejected_rows: 10, bytes: 1, errors: [], at: '' } };
    const all = measures({ files }, { transaction_without_account: 3 }, { accounts: 5, clients: 6, portfolios: 7, transactions: 90 });
    expect(all.find((m) => m.rule === 'transactions_rejected_rows')).toEqual({ rule: 'transactions_rejected_rows', count: 10, total: 100 });
    expect(all.find((m) => m.rule === 'accounts_rejected_rows')).toEqual({ rule: 'accounts_rejected_rows', count: 0, total: 0 });
    expect(all.find((m) => m.rule === 'transaction_without_account')).toEqual({ rule: 'transaction_without_account', count: 3, total: 90 });
    expect(all.find((m) => m.rule === 'client_without_portfolio')).toEqual({ rule: 'client_without_portfolio', count: 0, total: 6 });
  });

  it('refuses a configuration with a rule missing, an unknown rule, a bad threshold or bad JSON', () => {
    const { duplicate_account_number: _, ...missing } = RULES;
    expect(() => readConfig(QualityEnv, { QUALITY_RULES: JSON.stringify(missing), QUALITY_OVERRIDES: '{}' })).toThrow('QUALITY_RULES: no severity for duplicate_account_number');
    expect(() => readConfig(QualityEnv, { QUALITY_RULES: JSON.stringify({ ...RULES, orphans: { severity: 'error' } }), QUALITY_OVERRIDES: '{}' })).toThrow('unknown rule orphans');
    expect(() => readConfig(QualityEnv, { QUALITY_RULES: JSON.stringify({ ...RULES, duplicate_account_number: { severity: 'error', threshold: 2 } }), QUALITY_OVERRIDES: '{}' })).toThrow(
      'QUALITY_RULES.duplicate_account_number.threshold',
    );
    expect(() => readConfig(QualityEnv, { QUALITY_RULES: '{', QUALITY_OVERRIDES: '{}' })).toThrow('QUALITY_RULES: not JSON');
    expect(() => readConfig(QualityEnv, { QUALITY_RULES: JSON.stringify(RULES), QUALITY_OVERRIDES: JSON.stringify({ ACME: { name: 'x', rules: { orphan: {} } } }) })).toThrow(
      'override x of client ACME: unknown rule orphan',
    );
  });
});
