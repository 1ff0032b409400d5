import { jest } from '@jest/globals';
import type { Batch } from '@dataharvest/events/batch';
import { batchReport, exitCode, unhealthy } from '../src/cli/batch-report';
import { Progress, summaryLines } from '../src/cli/progress';
import { formatDuration } from '../src/cli/stage-timings';
import { statusReport } from '../src/cli/status';
import { statusLines } from '../src/cli/status-view';

const file = (rows: number) => ({ status: 'PERSISTED' as const, key: 'k', etag: 'e', rows, errors: [], at: '2020-01-30T00:00:00.000Z' });
const complete = {
  client: 'C',
  batch_date: '20200130',
  stage: 'COMPLETE',
  generation: 1,
  transformers: {},
  files: { accounts: file(2), clients: file(2), portfolios: file(2), transactions: file(2) },
} as unknown as Batch;

describe('batchReport and exitCode', () => {
  it('exits 0 only for a COMPLETE batch with every file persisted and nothing given up', () => {
    expect(exitCode(batchReport('C', complete, [], []))).toBe(0);
    expect(exitCode(batchReport('C', { ...complete, stage: 'FAILED' } as Batch, [], []))).toBe(1);
    expect(
      exitCode(batchReport('C', complete, [{ pk: 'CLIENT#C', sk: 'REJECTED#x.csv', stage: 'REJECTED', client: 'C', key: 'incoming/C/x.csv', file_name: 'x.csv', reason: 'bad key', at: '' }], [])),
    ).toBe(1);
  });

  it('lists records whose retries ran out, and fails the run for them', () => {
    const report = batchReport('C', complete, [], [], [{ function: 'dataharvest-tax-test-transform', reason: 'connection refused' }]);
    expect(report.failures).toEqual([{ function: 'dataharvest-tax-test-transform', reason: 'connection refused' }]);
    expect(exitCode(report)).toBe(1);
    expect(batchReport('C', complete, [], [])).not.toHaveProperty('failures');
  });
});

describe('the human summary of a run', () => {
  const event = (i: number) => ({ portfolio_reference: `P${String(i).padStart(5, '0')}`, version: 1, deposits_total: '1.00', transaction_count: 1, net_amount: '1.00', taxes_paid: '0.00' });

  it('shows at most 20 events, then how many more --json lists', () => {
    const report = batchReport('C', complete, [], Array.from({ length: 10_050 }, (_, i) => event(i)) as never);
    const lines = summaryLines(report);
    expect(lines.filter((l) => l.startsWith('  event '))).toHaveLength(20);
    expect(lines.at(-1)).toBe('  … and 10030 more events (use --json for all)');
    expect(summaryLines(batchReport('C', complete, [], [event(1)] as never)).at(-1)).toMatch(/^ {2}event P00001 v1/);
  });

  it("shows at most 10 of a file's errors, then how many it has in all", () => {
    const errors = Array.from({ length: 100 }, (_, i) => ({ line: i + 2, reason: 'bad amount' }));
    const rejected = { ...complete, files: { ...complete.files, transactions: { ...file(0), status: 'REJECTED', error_count: 250, errors } } } as unknown as Batch;
    const lines = summaryLines(batchReport('C', rejected, [], []));
    expect(lines.filter((l) => l.includes('bad amount'))).toHaveLength(10);
    expect(lines).toContain('      … and 240 more errors (use --json for all)');
  });
});

describe('stage timings and the status report', () => {
  const at = (s: number) => new Date(Date.parse('2020-01-30T00:00:00.000Z') + s * 1000).toISOString();
  const history = [
    { stage: 'PERSISTED', at: at(2) },
    { stage: 'RELATED', at: at(5) },
    { stage: 'TRANSFORMED', at: at(9) },
    { stage: 'COMPLETE', at: at(10) },
  ] as const;
  const timed = { ...complete, created_at: at(0), stage_history: history } as unknown as Batch;

  it('times each stage from entering it to entering the next, and none after the one it rests in', () => {
    const report = batchReport('C', timed, [], undefined, [], Date.parse(at(70)));
    expect(report.age_ms).toBe(70_000);
    expect(report.timings).toEqual([
      { stage: 'RECEIVING', entered_at: at(0), ms: 2000 },
      { stage: 'PERSISTED', entered_at: at(2), ms: 3000 },
      { stage: 'RELATED', entered_at: at(5), ms: 4000 },
      { stage: 'TRANSFORMED', entered_at: at(9), ms: 1000 },
      { stage: 'COMPLETE', entered_at: at(10) },
    ]);
    expect(report).not.toHaveProperty('events');
  });

  it('counts the stage a batch is still in up to now, and guesses nothing for a batch without history', () => {
    const related = { ...timed, stage: 'RELATED', stage_history: history.slice(0, 2) } as unknown as Batch;
    expect(batchReport('C', related, [], undefined, [], Date.parse(at(65))).timings?.at(-1)).toEqual({ stage: 'RELATED', entered_at: at(5), ms: 60_000 });
    expect(batchReport('C', { ...related, stage_history: undefined }, [], undefined, [], 0).timings).toEqual([]);
  });

  it('times a stage set twice in a row (two transformers failing the batch) from the first time', () => {
    const twice = { ...timed, stage: 'FAILED', stage_history: [...history.slice(0, 2), { stage: 'FAILED', at: at(7) }, { stage: 'FAILED', at: at(8) }] } as unknown as Batch;
    expect(batchReport('C', twice, [], undefined, [], Date.parse(at(70))).timings?.slice(-2)).toEqual([
      { stage: 'RELATED', entered_at: at(5), ms: 2000 },
      { stage: 'FAILED', entered_at: at(7) },
    ]);
  });

  it('shows a batch whose records gave up for its generation as FAILED, not one retrying or superseded', () => {
    const related = { ...timed, stage: 'RELATED', generation: 2 } as unknown as Batch;
    const failure = { function: 'tax', reason: 'connection refused', generation: 2, attempts: 4, first_seen: at(6), last_seen: at(9), gave_up: true };
    const failed = batchReport('C', related, [], undefined, [failure]);
    expect(failed).toMatchObject({ stage: 'FAILED', failures: [failure] });
    expect(unhealthy(failed)).toBe(true);
    for (const other of [
      { ...failure, gave_up: false },
      { ...failure, generation: 1 },
    ]) {
      const report = batchReport('C', related, [], undefined, [other]);
      expect(report.stage).toBe('RELATED');
      expect(unhealthy(report)).toBe(false);
    }
  });

  it("carries a transformer's error, the step that failed the batch and the quality verdict", () => {
    const failed = {
      ...timed,
      stage: 'FAILED',
      transformers: { deposit: { status: 'FAILED', generation: 1, at: at(6), duration_ms: 40, reason: 'numeric field overflow' } },
      failure: { step: 'deposit', reason: 'numeric field overflow', at: at(6) },
      quality: { outcome: 'WARN', rules: [{ rule: 'orphan_transactions', severity: 'warning', count: 1, total: 5000, ratio: 0.0002, outcome: 'WARN' }] },
    } as unknown as Batch;
    const report = batchReport('C', failed, [], undefined);
    expect(report.transformers.deposit).toEqual({ status: 'FAILED', reason: 'numeric field overflow', duration_ms: 40 });
    expect(report.failure).toEqual({ step: 'deposit', reason: 'numeric field overflow', at: at(6) });
    const lines = statusLines(report);
    expect(lines).toContain('  failed at deposit: numeric field overflow');
    expect(lines).toContain('  data quality WARN');
    expect(lines.find((l) => l.startsWith('    orphan_transactions'))).toMatch(/WARN +1 of 5000 rows/);
  });

  it('the human view names how long each stage took and which stage the batch is still in', () => {
    const related = { ...timed, stage: 'RELATED', stage_history: history.slice(0, 2) } as unknown as Batch;
    expect(statusLines(batchReport('C', related, [], undefined, [], Date.parse(at(65))))[1]).toBe('  stages: RECEIVING 2.0s → PERSISTED 3.0s → RELATED 1m00s so far');
    expect(['850ms', '12.3s', '4m05s', '2h03m', '3d04h']).toEqual([850, 12_340, 245_000, 7_380_000, 273_600_000].map(formatDuration));
  });

  it("lists a failure whose batch item is missing as a batch of its own, and sorts clients' newest batches first", () => {
    const failure = {
      pk: 'CLIENT#B',
      sk: 'FAILURE#20200131#persistence',
      client: 'B',
      batch_date: '20200131',
      function: 'persistence',
      generation: 0,
      reason: 'access denied',
      attempts: 3,
      first_seen: at(0),
      last_seen: at(1),
      gave_up: true,
    };
    const older = { ...timed, batch_date: '20200129' } as unknown as Batch;
    const report = statusReport([older, timed], [], [failure], Date.parse(at(70)));
    expect(report.batches.map((b) => [b.client, b.batch_date, b.stage])).toEqual([
      ['B', '20200131', 'FAILED'],
      ['C', '20200130', 'COMPLETE'],
      ['C', '20200129', 'COMPLETE'],
    ]);
    expect(report.batches[0]!.failures).toEqual([expect.objectContaining({ function: 'persistence', reason: 'access denied', gave_up: true })]);
  });
});

describe('where an error is', () => {
  const errors = [
    { line: 1, column: 'column 2', reason: 'unknown column 2 (5 characters) for a clients file' },
    { line: 3, column: 'amount', reason: 'not an amount' },
    { line: 4, reason: 'too many values' },
  ];
  const refused = { ...complete, files: { ...complete.files, clients: { ...file(0), status: 'REJECTED', error_count: 3, errors } } } as unknown as Batch;

  it('reads "column 2" for a header column without a shown name, never "column column 2", in run and status', () => {
    const expected = ['line 1, column 2: unknown column 2 (5 characters) for a clients file', 'line 3, column amount: not an amount', 'line 4: too many values'];
    expect(
      summaryLines(batchReport('C', refused, [], []))
        .filter((l) => l.startsWith('      line '))
        .map((l) => l.trim()),
    ).toEqual(expected);
    expect(
      statusLines(batchReport('C', refused, [], undefined))
        .filter((l) => l.startsWith('    line '))
        .map((l) => l.trim()),
    ).toEqual(expected);
  });
});

describe("a run's progress lines", () => {
  const at = (s: number) => `2024-03-18T10:00:${String(s).padStart(2, '0')}.000Z`;
  const portfolios = (status: string, etag: string, s: number, extra = {}) => ({ ...file(2), status, etag, at: at(s), ...extra });
  const firstAttempt = {
    ...complete,
    stage: 'RECEIVING',
    files: { ...complete.files, portfolios: portfolios('REJECTED', 'bad', 1, { reason: 'refused', error_count: 1 }) },
  } as unknown as Batch;
  const corrected = { ...complete, generation: 2, events_published: 2, files: { ...complete.files, portfolios: portfolios('PERSISTED', 'good', 9) } } as unknown as Batch;

  let printed: string[];
  beforeEach(() => {
    printed = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((text) => {
      printed.push(...String(text).trimEnd().split('\n'));
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());
  const lines = () => printed.map((l) => l.replace(/^\[ *[\d.]+s\] /, '').replace(/ +/g, ' '));

  it("prints only the current attempt's lines: nothing the metastore held before the run's uploads", () => {
    const progress = new Progress(true);
    progress.baseline(firstAttempt, []);
    progress.observe(firstAttempt, []); // the uploads not handled yet: the metastore still shows the previous attempt
    progress.observe(corrected, []);
    expect(lines()).toEqual(['portfolios PERSISTED 2 rows in ? ms', 'stage COMPLETE (2 events published)']);
  });

  it('prints a file uploaded again unchanged (same etag) once the upload is handled', () => {
    const progress = new Progress(true);
    const done = { ...corrected, generation: 1 } as Batch;
    progress.baseline(done, []);
    progress.observe(done, []);
    progress.observe({ ...done, generation: 2, files: { ...done.files, portfolios: portfolios('PERSISTED', 'good', 20) } } as unknown as Batch, []);
    expect(lines()).toEqual(['portfolios PERSISTED 2 rows in ? ms', 'stage COMPLETE (2 events published)']);
  });
});
