import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { type Connection, ingestBucket, runningCloud } from '../local/src/cli/connection';
import { startUp, type UpProcess } from './support/cli';
import { databaseDown } from './support/database-down';
import { cloudScratch } from './support/scratch';
import { until } from './support/until';

const SAMPLE = 'examples/sample-batch';
const DATE = '20200130';
const FILE_TYPES = ['accounts', 'clients', 'portfolios', 'transactions'];
/** Where the test leaves its screenshot of the page (docs/console.png is a copy of one). */
const SCREENSHOT = join(tmpdir(), 'dataharvest-console.png');
const CONSOLE_ADDRESS = /console {3}(http:\/\/127\.0\.0\.1:\d+\/)/;

/** The status console of `dataharvest up`, in headless Chromium: a batch, a failure and its redrive, live. */
describe('the status console', () => {
  const scratch = cloudScratch('console');
  let up: UpProcess | undefined;
  let browser: Browser | undefined;
  let postgresUrl = '';

  /**
   * Waits for what the page is to show; failing, says what it showed instead (an error from `/api/state`, an older
   * state) and the end of up's output, so that a failure in CI names its cause.
   */
  async function shown(what: Locator, options?: Parameters<Locator['waitFor']>[0]): Promise<void> {
    try {
      await what.waitFor(options);
    } catch (error) {
      const body = await what
        .page()
        .locator('body')
        // biome-ignore lint/performance/useDomNodeTextContent: the page as rendered, line by line, is what the reader needs.
        .innerText()
        .catch((e: unknown) => `(unreadable: ${(e as Error).message})`);
      throw new Error(`${(error as Error).message.split('\n')[0]}\nthe page showed:\n${body}\nup printed last:\n${up?.output().slice(-3000)}`, { cause: error });
    }
  }

  afterAll(async () => {
    await browser?.close();
    if (postgresUrl) await databaseDown(postgresUrl, false).catch(() => undefined);
    await up?.stop();
    scratch.remove();
  });

  it('shows a batch COMPLETE with its rows, a failed batch and its reason, and redrives it on a click', async () => {
    up = startUp('--data-dir', scratch.dataDir);
    const address = (await up.printed(CONSOLE_ADDRESS, 240_000))[1]!;
    postgresUrl = /Postgres {2}(\S+)/.exec(up.output())![1]!;
    const on: Connection = runningCloud(scratch.dataDir);
    const upload = (client: string) =>
      Promise.all(readdirSync(SAMPLE).map((f) => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(on.deployment), Key: `incoming/${client}/${f}`, Body: readFileSync(join(SAMPLE, f)) }))));

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const page: Page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(address);
    await shown(page.getByText('no batches yet'));

    // A clean batch: the page follows it to COMPLETE, each file with the rows the metastore counts.
    await upload('CLEAN_CO');
    const clean = page.locator('[data-batch="CLEAN_CO/20200130"]');
    await shown(clean.locator('header .stage', { hasText: 'COMPLETE' }), { timeout: 120_000 });
    const batch = await on.metastore.getBatch('CLEAN_CO', DATE);
    for (const type of FILE_TYPES) {
      const row = clean.locator(`tr[data-file="${type}"]`);
      await shown(row.locator('.stage', { hasText: 'PERSISTED' }));
      expect(await row.locator('.rows').textContent()).toBe(String(batch!.files[type as 'accounts']!.rows));
      expect(batch!.files[type as 'accounts']!.rows).toBeGreaterThan(0);
    }
    await shown(clean.locator('.timeline', { hasText: 'RECEIVING' }));
    await shown(page.locator('tr[data-client="CLEAN_CO"]'));

    // A transformer's records give up while PostgreSQL is down: the batch shows FAILED with the reason, and the
    // on-failure queues list its messages with a redrive button each.
    await upload('BROKEN_CO');
    await until('relations', async () => ((await on.metastore.getBatch('BROKEN_CO', DATE))?.stage === 'RELATED' ? true : undefined));
    await databaseDown(postgresUrl, true);
    const broken = page.locator('[data-batch="BROKEN_CO/20200130"]');
    await shown(broken.locator('header .stage', { hasText: 'FAILED' }), { timeout: 180_000 });
    await shown(broken.locator('.batch-failures', { hasText: 'not currently accepting connections' }));
    const queued = page.locator('tr[data-failure]', { hasText: 'BROKEN_CO/20200130' });
    await shown(queued.first(), { timeout: 60_000 });
    expect(await queued.first().locator('.reason').textContent()).toContain('not currently accepting connections');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // The fix, then a click: the batch goes on to COMPLETE and the message redriven leaves its queue.
    await databaseDown(postgresUrl, false);
    const id = await queued.first().getAttribute('data-failure');
    await queued.first().getByRole('button', { name: 'Redrive' }).click();
    await shown(page.getByText(`redriven ${id}`), { timeout: 60_000 });
    await shown(broken.locator('header .stage', { hasText: 'COMPLETE' }), { timeout: 120_000 });
    await shown(page.locator(`tr[data-failure="${id}"]`), { state: 'detached' });
    expect((await on.metastore.getBatch('BROKEN_CO', DATE))?.stage).toBe('COMPLETE');
    // Nothing but the console itself was fetched: no CDN, no network.
    expect(requests.filter((u) => !u.startsWith(address))).toEqual([]);
  }, 600_000);

  it("lists a batch's published events when expanded, and links a refused file to its report", async () => {
    const address = CONSOLE_ADDRESS.exec(up!.output())![1]!;
    const on: Connection = runningCloud(scratch.dataDir);
    // An accounts file of the next day whose balance is no number: refused, quarantined, its report under errors/.
    await on.aws.s3.send(
      new PutObjectCommand({
        Bucket: ingestBucket(on.deployment),
        Key: 'incoming/CLEAN_CO/accounts_20200131.csv',
        Body: 'record_id,accout_number,cash_balance,currency,taxes_paid\n1,12345678,lots,EUR,0.00\n',
      }),
    );
    const page = await browser!.newPage();
    await page.goto(address);
    const clean = page.locator('[data-batch="CLEAN_CO/20200130"]');
    await clean.locator('details.events summary', { hasText: '2 events published' }).click();
    const rows = clean.locator('details.events tr[data-event]');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    expect(await rows.locator('.version').allTextContents()).toEqual(['1', '1']);

    const refused = page.locator('[data-batch="CLEAN_CO/20200131"] tr[data-file="accounts"]');
    await refused.locator('.stage', { hasText: 'REJECTED' }).waitFor({ timeout: 60_000 });
    expect(await refused.locator('.report .muted').textContent()).toBe('copy: quarantine/CLEAN_CO/accounts_20200131.csv');
    const href = await refused.getByRole('link', { name: 'full report' }).getAttribute('href');
    expect(href).toBe(`/api/report?key=${encodeURIComponent('errors/CLEAN_CO/accounts_20200131.csv.json')}`);
    const report = await fetch(new URL(href!, address));
    expect(report.status).toBe(200);
    expect(await report.json()).toMatchObject({ key: 'incoming/CLEAN_CO/accounts_20200131.csv', status: 'REJECTED', error_count: 1, errors: [{ line: 2, column: 'cash_balance' }] });
    // Reports only: no other object of the bucket, such as an archived file with its rows, is served.
    expect((await fetch(`${address}api/report?key=${encodeURIComponent('archive/CLEAN_CO/clients_20200130.csv')}`)).status).toBe(400);
    expect((await fetch(`${address}api/report?key=${encodeURIComponent('errors/CLEAN_CO/none.json')}`)).status).toBe(404);
    await page.close();
  }, 120_000);

  it('refuses a redrive without the token of this start, from another origin, or not as POST', async () => {
    const address = CONSOLE_ADDRESS.exec(up!.output())![1]!;
    const post = (headers: Record<string, string>) => fetch(`${address}api/redrive`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"id":"x"}' });
    const html = await (await fetch(address)).text();
    const token = /name="console-token" content="([^"]+)"/.exec(html)![1]!;
    expect((await post({})).status).toBe(403);
    expect((await post({ 'x-console-token': `${token}x` })).status).toBe(403);
    expect((await post({ 'x-console-token': token, origin: 'http://evil.example' })).status).toBe(403);
    expect((await fetch(`${address}api/redrive`)).status).toBe(405);
    // fetch sends its own Host: a page of another name resolved to 127.0.0.1 (DNS rebinding) is refused.
    const rebound = await new Promise<number | undefined>((resolve, reject) =>
      request(address, { headers: { host: 'evil.example' } }, (res) => resolve(res.resume().statusCode))
        .on('error', reject)
        .end(),
    );
    expect(rebound).toBe(421);
    // With the token: accepted, and an unknown message is named as such.
    const known = await post({ 'x-console-token': token, origin: address.slice(0, -1) });
    expect(known.status).toBe(404);
    expect(((await known.json()) as { error: string }).error).toContain('no message x');
  }, 60_000);
});
