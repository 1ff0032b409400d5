import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { cli, startUp, type UpProcess } from './support/cli';
import { controlText } from './support/control';
import { cloudScratch } from './support/scratch';
import { until } from './support/until';

const TYPES = ['accounts', 'clients', 'portfolios', 'transactions'];
/** Where the test leaves its screenshot of the completeness board (docs/console-board.png is a copy of one). */
const SCREENSHOT = join(tmpdir(), 'dataharvest-console-board.png');

/**
 * Expected deliveries on the local clock, with services/delivery's dev schedules (shared/delivery-schedules.yml):
 * bank-de (DE holidays, four files owed by 17:00 Europe/Berlin) and bank-at (AT holidays, 17:00 Europe/Vienna, a
 * control file owed too). The clock passes each cut-off in a second, not a wait. The host runs in Tokyo: every
 * cut-off and every "today" must still be the client's (the functions run in UTC, as on Lambda).
 */
describe('expected deliveries: late and missing files at the cut-off', () => {
  const scratch = cloudScratch('expected');
  const hostZone = process.env.TZ;
  let up: UpProcess;
  let browser: Browser | undefined;

  beforeAll(async () => {
    process.env.TZ = 'Asia/Tokyo';
    up = startUp('--notifications', '--clock', '2024-10-01T16:30:00+02:00', '--data-dir', scratch.dataDir);
    await up.printed('notifications of arn:aws:sns:', 240_000);
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    expect(await up.stop()).toBe(0);
    process.env.TZ = hostZone;
    scratch.remove();
  });

  /** The sample batch's file of a type, renamed to a date. */
  const fileOf = (type: string, date: string) => {
    const dir = join(scratch.dir, date);
    mkdirSync(dir, { recursive: true });
    const to = join(dir, `${type}_${date}.csv`);
    copyFileSync(`examples/sample-batch/${type}_20200130.csv`, to);
    return to;
  };
  const upload = async (client: string, ...files: string[]) => expect((await cli('upload', ...files, '--client', client, '--data-dir', scratch.dataDir)).code).toBe(0);
  const setClock = (time: string) => cli('clock', time, '--data-dir', scratch.dataDir);
  const expected = (...date: string[]) => cli('status', '--expected', ...(date.length ? ['--date', ...date] : []), '--json', '--data-dir', scratch.dataDir);
  const dayOf = async (client: string, ...date: string[]) => {
    const out = await expected(...date);
    if (!out.stdout) throw new Error(`status --expected printed nothing: ${out.stderr}`);
    return (JSON.parse(out.stdout) as { expected: Array<Record<string, unknown>> }).expected.find((d) => d.client === client);
  };
  const batchOf = async (client: string, date: string) => {
    const out = await cli('status', '--client', client, '--date', date, '--json', '--data-dir', scratch.dataDir);
    return { code: out.code, batch: (JSON.parse(out.stdout) as { batches: Array<Record<string, unknown>> }).batches[0] };
  };
  const persisted = (client: string, date: string, n: number) =>
    until(`${n} files of ${client} persisted`, async () => {
      const files = Object.values(((await batchOf(client, date)).batch?.files ?? {}) as Record<string, { status: string }>);
      return files.filter((f) => f.status === 'PERSISTED').length === n ? true : undefined;
    });

  it('records the batch LATE at 17:00, tells the desk which file is missing, and completes when it arrives', async () => {
    await upload('bank-de', ...TYPES.slice(0, 3).map((t) => fileOf(t, '20241001')));
    await persisted('bank-de', '20241001', 3);
    expect(await dayOf('bank-de', '20241001')).toMatchObject({ state: 'expected', missing: ['transactions_20241001.csv'] });

    expect((await setClock('2024-10-01T17:00:00+02:00')).stdout).toMatch(/^2024-10-01T15:00:00\.\d{3}Z\n$/);
    await up.printed('notification FAILURE delivery bank-de 20241001 LATE: late: transactions_20241001.csv missing at the cut-off 2024-10-01T15:00:00.000Z\n');
    expect(await dayOf('bank-de', '20241001')).toMatchObject({ state: 'LATE', missing: ['transactions_20241001.csv'], late: ['transactions_20241001.csv'] });
    expect((await expected('20241001')).code).toBe(1);
    expect(await batchOf('bank-de', '20241001')).toMatchObject({ code: 1, batch: { stage: 'LATE' } });

    await upload('bank-de', fileOf('transactions', '20241001'));
    await up.printed('notification SUCCESS batch bank-de 20241001 COMPLETE');
    expect(await batchOf('bank-de', '20241001')).toMatchObject({ code: 0, batch: { stage: 'COMPLETE', late: { missing: ['transactions_20241001.csv'], cut_off: '2024-10-01T15:00:00.000Z' } } });
    expect(await dayOf('bank-de', '20241001')).toMatchObject({ state: 'COMPLETE', missing: [], late: ['transactions_20241001.csv'] });
  }, 240_000);

  it('holds a client that owes a control file back until it arrives, and names it missing at the cut-off', async () => {
    await setClock('2024-10-02T16:00:00+02:00');
    await upload('bank-at', ...TYPES.map((t) => fileOf(t, '20241002')));
    await persisted('bank-at', '20241002', 4);
    expect(await dayOf('bank-at', '20241002')).toMatchObject({ state: 'expected', missing: ['control_20241002.csv'] });

    // Still unrelated at the cut-off: only a PERSISTED batch waiting for its control file can become LATE.
    await setClock('2024-10-02T17:00:00+02:00');
    await up.printed('notification FAILURE delivery bank-at 20241002 LATE: late: control_20241002.csv missing at the cut-off 2024-10-02T15:00:00.000Z\n');
    expect(await batchOf('bank-at', '20241002')).toMatchObject({ code: 1, batch: { stage: 'LATE', transformers: {} } });

    const control = join(scratch.dir, '20241002', 'control_20241002.csv');
    writeFileSync(control, controlText(join(scratch.dir, '20241002')));
    await upload('bank-at', control);
    await up.printed('notification SUCCESS batch bank-at 20241002 COMPLETE');
    expect(await batchOf('bank-at', '20241002')).toMatchObject({
      batch: {
        stage: 'COMPLETE',
        late: { missing: ['control_20241002.csv'] },
        control: { status: 'RECEIVED', files: { accounts: 'MATCH', clients: 'MATCH', portfolios: 'MATCH', transactions: 'MATCH' } },
      },
    });
    expect(await dayOf('bank-at', '20241002')).toMatchObject({ state: 'COMPLETE', missing: [], late: ['control_20241002.csv'] });
  }, 240_000);

  it("expects nothing on a holiday of the client's own calendar", async () => {
    // Tag der Deutschen Einheit is bank-de's holiday, not bank-at's; the next day, with nothing sent, is late for both.
    await setClock('2024-10-03T17:00:00+02:00');
    await up.printed('notification FAILURE delivery bank-at 20241003 LATE');
    await setClock('2024-10-04T17:00:00+02:00');
    await up.printed('notification FAILURE delivery bank-de 20241004 LATE');
    await up.printed('notification FAILURE delivery bank-at 20241004 LATE');
    expect(up.output()).not.toContain('bank-de 20241003');
    expect(await dayOf('bank-de', '20241003')).toMatchObject({ state: 'holiday', owed: [] });
  }, 120_000);

  it("shows the desk its week on the console's completeness board", async () => {
    const address = /console {3}(http:\/\/127\.0\.0\.1:\d+\/)/.exec(up.output())![1]!;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(address);
    const board = page.locator('table.board');
    const cell = (client: string, date: string) => board.locator(`tr[data-client="${client}"] td[data-day="${date}"]`);
    await cell('bank-at', '20241004').locator('.stage', { hasText: 'LATE' }).waitFor();
    expect(await board.locator('thead th').allTextContents()).toEqual(['client', 'Mon 2024-09-30', 'Tue 2024-10-01', 'Wed 2024-10-02', 'Thu 2024-10-03', 'Fri 2024-10-04']);
    const states = (client: string) => board.locator(`tr[data-client="${client}"] td[data-day] .stage`).allTextContents();
    // The Monday passed while the clock jumped: no check recorded it, so it is missing, not LATE.
    expect(await states('bank-de')).toEqual(['missing', 'COMPLETE', 'LATE', 'holiday', 'LATE']);
    expect(await states('bank-at')).toEqual(['missing', 'LATE', 'COMPLETE', 'LATE', 'LATE']);
    expect(await cell('bank-de', '20241001').locator('.owed').textContent()).toBe('late: transactions_20241001.csv');
    expect(await cell('bank-at', '20241003').locator('.owed').textContent()).toBe(
      'owes accounts_20241003.csv, clients_20241003.csv, portfolios_20241003.csv, transactions_20241003.csv, control_20241003.csv',
    );
    await board.screenshot({ path: SCREENSHOT });
  }, 120_000);

  it('takes the cut-off in the client’s zone in the week its offset changes, never the host’s', async () => {
    // Friday 25 October: Berlin on summer time, 17:00 is 15:00 UTC.
    await setClock('2024-10-25T17:00:00+02:00');
    await up.printed(
      'notification FAILURE delivery bank-de 20241025 LATE: late: accounts_20241025.csv, clients_20241025.csv, portfolios_20241025.csv, transactions_20241025.csv missing at the cut-off 2024-10-25T15:00:00.000Z\n',
    );
    // Monday 28 October, after the change back: at 16:59 Berlin (15:59 UTC, already Tuesday in Tokyo) nothing is late yet.
    await setClock('2024-10-28T16:59:00+01:00');
    const [, late] = (await up.printed(/delivery check at=2024-10-28T15:55:00Z \S* ?late=(\d+)/))!;
    expect(late).toBe('0');
    expect(await dayOf('bank-de')).toMatchObject({ date: '20241028', state: 'expected', cut_off: '2024-10-28T16:00:00.000Z' });
    await setClock('2024-10-28T17:00:00+01:00');
    await up.printed(
      'delivery bank-de 20241028 LATE: late: accounts_20241028.csv, clients_20241028.csv, portfolios_20241028.csv, transactions_20241028.csv missing at the cut-off 2024-10-28T16:00:00.000Z\n',
    );
  }, 120_000);
});
