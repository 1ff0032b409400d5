import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cli, startUp } from './support/cli';
import { cloudScratch } from './support/scratch';
import { until } from './support/until';

const TYPES = ['accounts', 'clients', 'portfolios', 'transactions'];

/**
 * Expected deliveries on the local clock: bank-de (services/delivery's dev schedule: DE holidays, four files owed by
 * 17:00 Europe/Berlin) sends three files; the clock passes the cut-off in a second, not a wait.
 */
describe('expected deliveries: late and missing files at the cut-off', () => {
  const scratch = cloudScratch('expected');
  afterAll(() => scratch.remove());

  /** The sample batch's file of a type, renamed to a date. */
  const fileOf = (type: string, date: string) => {
    const dir = join(scratch.dir, date);
    mkdirSync(dir, { recursive: true });
    const to = join(dir, `${type}_${date}.csv`);
    copyFileSync(`examples/sample-batch/${type}_20200130.csv`, to);
    return to;
  };
  const expected = (date: string) => cli('status', '--expected', '--date', date, '--json', '--data-dir', scratch.dataDir);
  const dayOf = async (date: string) => {
    const out = await expected(date);
    if (!out.stdout) throw new Error(`status --expected printed nothing: ${out.stderr}`);
    return (JSON.parse(out.stdout) as { expected: Array<Record<string, unknown>> }).expected.find((d) => d.client === 'bank-de');
  };
  const batchOf = async (date: string) => {
    const out = await cli('status', '--client', 'bank-de', '--date', date, '--json', '--data-dir', scratch.dataDir);
    return { code: out.code, batch: (JSON.parse(out.stdout) as { batches: Array<Record<string, unknown>> }).batches[0] };
  };

  it('records the batch LATE at 17:00, tells the desk which file is missing, and completes when it arrives', async () => {
    const up = startUp('--notifications', '--clock', '2024-03-18T16:30:00+01:00', '--data-dir', scratch.dataDir);
    try {
      await up.printed('notifications of arn:aws:sns:');
      const three = TYPES.slice(0, 3).map((t) => fileOf(t, '20240318'));
      expect((await cli('upload', ...three, '--client', 'bank-de', '--data-dir', scratch.dataDir)).code).toBe(0);
      await until('three files persisted', async () => (Object.keys((await batchOf('20240318')).batch?.files ?? {}).length === 3 ? true : undefined));
      expect(await dayOf('20240318')).toMatchObject({ state: 'expected', missing: ['transactions_20240318.csv'] });

      expect((await cli('clock', '2024-03-18T17:00:00+01:00', '--data-dir', scratch.dataDir)).stdout).toMatch(/^2024-03-18T16:00:00\.\d{3}Z\n$/);
      await up.printed('notification FAILURE delivery bank-de 20240318 LATE: late: transactions_20240318.csv missing at the cut-off 2024-03-18T16:00:00.000Z\n');
      expect(await dayOf('20240318')).toMatchObject({ state: 'LATE', missing: ['transactions_20240318.csv'], late: ['transactions_20240318.csv'] });
      expect((await expected('20240318')).code).toBe(1);
      expect(await batchOf('20240318')).toMatchObject({ code: 1, batch: { stage: 'LATE' } });

      expect((await cli('upload', fileOf('transactions', '20240318'), '--client', 'bank-de', '--data-dir', scratch.dataDir)).code).toBe(0);
      await up.printed('notification SUCCESS batch bank-de 20240318 COMPLETE');
      expect(await batchOf('20240318')).toMatchObject({ code: 0, batch: { stage: 'COMPLETE', late: { missing: ['transactions_20240318.csv'], cut_off: '2024-03-18T16:00:00.000Z' } } });
      expect(await dayOf('20240318')).toMatchObject({ state: 'COMPLETE', missing: [], late: ['transactions_20240318.csv'] });

      // Tag der Deutschen Einheit expects nothing; the next day, with nothing sent, is late from its cut-off on.
      await cli('clock', '2024-10-03T17:00:00+02:00', '--data-dir', scratch.dataDir);
      await cli('clock', '2024-10-04T17:00:00+02:00', '--data-dir', scratch.dataDir);
      await up.printed('notification FAILURE delivery bank-de 20241004 LATE');
      expect(up.output()).not.toContain('bank-de 20241003');
      expect(await expected('20241003')).toMatchObject({ code: 0 });
      expect(await dayOf('20241003')).toMatchObject({ state: 'holiday', owed: [] });
    } finally {
      expect(await up.stop()).toBe(0);
    }
  }, 360_000);
});
