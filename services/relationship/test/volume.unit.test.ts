import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { readConfig } from '@dataharvest/shared/config';
import { evaluate, failureReason, QualityEnv } from '../src/quality';
import { judgeVolume, mad, median, VOLUME_RULES, volumeMeasures } from '../src/volume';

/** The rules as serverless.yml deploys them by default: its top-level `params` block (plain YAML, unlike the rest). */
const deployed = () => {
  const block = /^params:\n(?: .*\n|\n)+/m.exec(readFileSync('services/relationship/serverless.yml', 'utf8'))![0];
  const params = (yaml.load(block) as { params: { default: Record<string, string> } }).params.default;
  const config = readConfig(QualityEnv, { QUALITY_RULES: params.qualityRules!, QUALITY_OVERRIDES: params.qualityOverrides! });
  return { rules: config.QUALITY_RULES, overrides: config.QUALITY_OVERRIDES };
};
/** Twenty business days of about 1000 transactions (and 100 of everything else). */
const HISTORY = Array.from({ length: 20 }, (_, i) => 1000 + ((i * 37) % 101) - 50);
const day = (transactions: number) => ({ rows: transactions, money: transactions * 12.5 });
const steady = { rows: 100, money: 5000 };
const today = (transactions: number) => ({ accounts: steady, clients: steady, portfolios: steady, transactions: day(transactions) });
const history = (n: number) => HISTORY.slice(0, n).map((t) => today(t));
const rule = (q: ReturnType<typeof evaluate>, name: string) => q.rules.find((r) => r.rule === name);

describe('median and MAD', () => {
  it('are the middle value, and 1.4826 × the median distance from it', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(mad([1, 2, 3, 4, 100])).toBeCloseTo(1.4826);
    expect(mad([7, 7, 7])).toBe(0);
  });
});

describe('volume anomalies under the deployed defaults', () => {
  it('fails a day with 10% of the trailing median volume, naming figure, band and history', () => {
    const quality = evaluate(deployed(), 'C', volumeMeasures(today(100), history(20)));
    expect(quality.outcome).toBe('FAIL');
    const failed = rule(quality, 'transactions_row_volume');
    expect(failed).toMatchObject({ severity: 'error', count: 1, value: 100, history: 20, outcome: 'FAIL' });
    expect(failed!.low).toBeGreaterThan(100);
    expect(failed!.high).toBeLessThan(2000);
    expect(rule(quality, 'transactions_money_volume')).toMatchObject({ severity: 'warning', outcome: 'WARN' });
    expect(rule(quality, 'accounts_row_volume')).toMatchObject({ count: 0, outcome: 'PASS' });
    expect(failureReason(quality)).toBe(`data-quality rules failed: transactions_row_volume 100 outside ${failed!.low}..${failed!.high} (median ${failed!.median} of the last 20 batches)`);
  });

  it('passes an ordinary day, and a day with half again the usual volume', () => {
    expect(evaluate(deployed(), 'C', volumeMeasures(today(1010), history(20))).outcome).toBe('PASS');
    expect(evaluate(deployed(), 'C', volumeMeasures(today(1450), history(20))).outcome).toBe('PASS');
    expect(evaluate(deployed(), 'C', volumeMeasures(today(1600), history(20))).outcome).toBe('FAIL');
  });

  it("passes a client's first days with a note, however small", () => {
    for (const n of [0, 1, 9]) {
      const quality = evaluate(deployed(), 'NEW', volumeMeasures(today(1), history(n)));
      expect(quality.outcome).toBe('PASS');
      expect(rule(quality, 'transactions_row_volume')).toMatchObject({ outcome: 'PASS', history: n, note: `too little history: ${n} of the 10 earlier batches it needs` });
    }
    expect(evaluate(deployed(), 'C', volumeMeasures(today(100), history(10))).outcome).toBe('FAIL');
  });

  it('lets a per-client override widen the band, recorded as OVERRIDDEN', () => {
    const config = deployed();
    config.overrides = { SEASONAL: { name: 'CHG-7 year-end', rules: { transactions_row_volume: { threshold: 0.95 } } } };
    const quality = evaluate(config, 'SEASONAL', volumeMeasures(today(100), history(20)));
    expect(quality).toMatchObject({ outcome: 'OVERRIDDEN', override: 'CHG-7 year-end' });
    expect(rule(quality, 'transactions_row_volume')).toMatchObject({ threshold: 0.95, outcome: 'OVERRIDDEN' });
  });
});

describe('judgeVolume', () => {
  const config = { severity: 'error' as const, threshold: 0.1, k: 3, min_history: 3 };
  it('holds a steady history to the threshold, a noisy one to k × MAD', () => {
    expect(judgeVolume(config, { rule: 'r', value: 111, history: [100, 100, 100] })).toEqual({ outcome: 'FAIL', median: 100, low: 90, high: 110 });
    expect(judgeVolume(config, { rule: 'r', value: 110, history: [100, 100, 100] }).outcome).toBe('PASS');
    const noisy = judgeVolume(config, { rule: 'r', value: 150, history: [60, 100, 140, 80, 120] });
    expect(noisy).toMatchObject({ outcome: 'PASS', median: 100 });
    expect(noisy.high).toBeCloseTo(100 + 3 * 1.4826 * 20, 1);
    expect(judgeVolume({ ...config, severity: 'warning' }, { rule: 'r', value: -500, history: [100, 100, 100] }).outcome).toBe('WARN');
  });

  it('measures every type’s rows, and money where the type has money columns', () => {
    expect(VOLUME_RULES.map((r) => r.rule)).toEqual([
      'accounts_row_volume',
      'accounts_money_volume',
      'clients_row_volume',
      'clients_money_volume',
      'portfolios_row_volume',
      'transactions_row_volume',
      'transactions_money_volume',
    ]);
    expect(volumeMeasures(today(7), [today(8), { accounts: steady }])).toContainEqual({ rule: 'transactions_row_volume', value: 7, history: [8] });
  });
});
