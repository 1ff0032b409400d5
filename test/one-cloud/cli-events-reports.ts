import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { portfolioEventId } from '@dataharvest/events/portfolio-event';
import { announceCloud, type Connection, connectCloud, eventsStream, ingestBucket } from '../../local/src/cli/connection';
import type { PublishedEvent } from '../../local/src/cli/event-selection';
import type { FileReportEntry } from '../../local/src/cli/file-reports';
import { StreamReader } from '../../local/src/cli/stream-reader';
import type { LocalCloud } from '../../local/src/cloud/index';
import { sharedCloud } from '../support/shared-cloud';
import { cli } from '../support/cli';
import { lenientPersistence } from '../support/lenient';
import { until } from '../support/until';

const SAMPLE = 'examples/sample-batch';
const CLIENT = 'EVENTS_CO';
const LENIENT = 'EVENTS_LENIENT_CO';
/** The sample's transactions with the first deposit corrected from 5000 to 6000: generation 2, events version 2. */
const CORRECTED = readFileSync(join(SAMPLE, 'transactions_20200130.csv'), 'utf8').replace(',5000,DEPOSIT', ',6000,DEPOSIT');
/** An accounts file of the next day whose balance is no number: refused, nothing loaded. */
const BAD_ACCOUNTS = 'record_id,accout_number,cash_balance,currency,taxes_paid\n1,12345678,lots,EUR,0.00\n';

/**
 * `dataharvest events` and `reports` as a user runs them against a cloud with history: a batch, its correction and
 * a refused file of one client, a lenient load of another. The CLI finds the test's cloud as it finds the one `up` runs.
 */
describe('dataharvest events and reports', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'dataharvest-events-'));
  const dataDir = join(scratch, 'cloud');
  let cloud: LocalCloud;
  let on: Connection;
  const put = (key: string, body: string | Buffer) => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(on.deployment), Key: key, Body: body }));
  const exists = (key: string) => on.aws.s3.send(new HeadObjectCommand({ Bucket: ingestBucket(on.deployment), Key: key })).then(() => true);
  const batch = (client: string, date = '20200130') => on.metastore.getBatch(client, date);
  const run = (...args: string[]) => cli(...args, '--data-dir', dataDir);

  beforeAll(async () => {
    cloud = await sharedCloud();
    on = connectCloud(cloud);
    mkdirSync(dataDir);
    announceCloud(dataDir, cloud);
    await cloud.deploy(lenientPersistence(scratch, LENIENT));
    for (const f of readdirSync(SAMPLE)) await put(`incoming/${CLIENT}/${f}`, readFileSync(join(SAMPLE, f)));
    await until('the first generation COMPLETE', async () => ((await batch(CLIENT))?.stage === 'COMPLETE' ? true : undefined));
    await put(`incoming/${CLIENT}/transactions_20200130.csv`, CORRECTED);
    await until('the correction COMPLETE', async () => {
      const b = await batch(CLIENT);
      return b?.generation === 2 && b.stage === 'COMPLETE' ? true : undefined;
    });
    await put(`incoming/${CLIENT}/accounts_20200131.csv`, BAD_ACCOUNTS);
    await put(`incoming/${CLIENT}/notes_20200131.csv`, 'x\n');
    // Valid rows load, the one whose amount is a name is left out.
    await put(`incoming/${LENIENT}/transactions_20200130.csv`, `${readFileSync(join(SAMPLE, 'transactions_20200130.csv'), 'utf8').trimEnd()}\n3,12345678,x1,Frida,DEPOSIT\n`);
    await until('the refusals and the lenient load recorded', async () => {
      const [refused, { rejected }, lenient] = await Promise.all([batch(CLIENT, '20200131'), on.metastore.listClient(CLIENT), batch(LENIENT)]);
      return refused?.files.accounts?.status === 'REJECTED' && rejected.length === 1 && lenient?.files.transactions?.status === 'PERSISTED' ? true : undefined;
    });
  }, 300_000);
  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('events --json prints the highest version per portfolio, each event exactly as published', async () => {
    const out = await run('events', '--client', CLIENT, '--json');
    expect(out).toMatchObject({ code: 0, stderr: '' });
    const { events } = JSON.parse(out.stdout) as { events: PublishedEvent[] };
    expect(events.map((e) => [e.batch_date, e.version])).toEqual([
      ['20200130', 2],
      ['20200130', 2],
    ]);
    // The corrected deposit is in, and each event is the stream's record as it is, byte for byte once parsed.
    expect(events.map((e) => e.deposits_total).sort()).toEqual(['0.00', '6000.00']);
    const published = (await new StreamReader(on.aws.kinesis, eventsStream(on.deployment)).read()) as PublishedEvent[];
    for (const e of events) expect(e).toEqual(published.find((p) => p.event_id === e.event_id));

    const text = await run('events', '--client', CLIENT, '--date', '20200130');
    expect(text.code).toBe(0);
    expect(text.stdout.trim().split('\n')).toEqual(
      events.map((e) => expect.stringMatching(new RegExp(`^${CLIENT} 20200130 ${e.portfolio_reference} v2: deposits ${e.deposits_total}, transactions \\d+, net `))),
    );
  });

  it('events --all-versions prints both generations; a date without events exits 1', async () => {
    const all = await run('events', '--client', CLIENT, '--all-versions', '--json');
    expect(all.code).toBe(0);
    const { events } = JSON.parse(all.stdout) as { events: PublishedEvent[] };
    expect(events.map((e) => e.version)).toEqual([1, 2, 1, 2]);
    expect(new Set(events.map((e) => e.portfolio_reference)).size).toBe(2);

    expect(await run('events', '--client', CLIENT, '--date', '20200131', '--json')).toEqual({ code: 1, stdout: '{"events":[]}\n', stderr: '' });
    expect(await run('events', '--client', CLIENT, '--date', '2020-01-30')).toEqual({ code: 2, stdout: '', stderr: 'dataharvest: --date takes a calendar date as YYYYMMDD, not 2020-01-30\n' });
  });

  it('events --follow prints new events as they arrive, one JSON object a line, and exits 0 on Ctrl-C', async () => {
    const child = spawn('node', ['local/bin/dataharvest.mjs', 'events', '--client', CLIENT, '--follow', '--json', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = () => stdout.split('\n').filter(Boolean);
    await until('the events so far', async () => (lines().length === 2 ? true : undefined), 30_000);
    // A third version of one portfolio's event, and another client's event, published after the command started.
    const [first] = lines().map((l) => JSON.parse(l) as PublishedEvent);
    const next = (client: string) => {
      const key = { type: 'portfolio.batch.v1' as const, client, batch_date: first!.batch_date, version: 3, portfolio_reference: first!.portfolio_reference };
      return { ...first!, ...key, event_id: portfolioEventId(key) };
    };
    for (const e of [next('SOMEONE_ELSE'), next(CLIENT)]) {
      await on.aws.kinesis.send(new PutRecordCommand({ StreamName: eventsStream(on.deployment), PartitionKey: e.portfolio_reference, Data: Buffer.from(JSON.stringify(e)) }));
    }
    await until('the new event', async () => (lines().length === 3 ? true : undefined), 30_000);
    expect(JSON.parse(lines()[2]!)).toEqual(next(CLIENT));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(lines()).toHaveLength(3);
  });

  it('reports --json lists the refused file and key with their errors, quarantined copy and report; exit 1', async () => {
    const out = await run('reports', '--client', CLIENT, '--json');
    expect(out.code).toBe(1);
    const { reports } = JSON.parse(out.stdout) as { reports: FileReportEntry[] };
    // The first day's files all loaded in the end: nothing of it is listed.
    expect(reports.map((r) => [r.file_name, r.status, r.copy, r.report])).toEqual([
      ['accounts_20200131.csv', 'REJECTED', `quarantine/${CLIENT}/accounts_20200131.csv`, `errors/${CLIENT}/accounts_20200131.csv.json`],
      ['notes_20200131.csv', 'REJECTED', `quarantine/${CLIENT}/notes_20200131.csv`, `errors/${CLIENT}/notes_20200131.csv.json`],
    ]);
    expect(reports[0]).toMatchObject({ batch_date: '20200131', key: `incoming/${CLIENT}/accounts_20200131.csv`, error_count: 1, errors: [{ line: 2, column: 'cash_balance' }] });
    expect(reports[1]).toMatchObject({ batch_date: null, reason: expect.stringContaining('unknown file type') });
    for (const r of reports) {
      expect(await exists(r.copy)).toBe(true);
      expect(await exists(r.report!)).toBe(true);
    }
    expect(await run('reports', '--client', CLIENT, '--date', '20200130', '--json')).toEqual({ code: 0, stdout: '{"reports":[]}\n', stderr: '' });
    const text = await run('reports', '--client', CLIENT, '--date', '20200131');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${CLIENT} 20200131 accounts_20200131.csv: REJECTED: 1 problem found; nothing loaded\n    line 2, column cash_balance: `);
    expect(text.stdout).toContain(`  copy:   quarantine/${CLIENT}/accounts_20200131.csv\n  report: errors/${CLIENT}/accounts_20200131.csv.json\n`);
  });

  it('reports --show prints the full report from the bucket, by file name or key', async () => {
    const stored = JSON.parse(
      await (await on.aws.s3.send(new GetObjectCommand({ Bucket: ingestBucket(on.deployment), Key: `errors/${CLIENT}/accounts_20200131.csv.json` }))).Body!.transformToString(),
    );
    const json = await run('reports', '--client', CLIENT, '--show', `quarantine/${CLIENT}/accounts_20200131.csv`, '--json');
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toEqual(stored);
    const text = await run('reports', '--client', CLIENT, '--show', 'accounts_20200131.csv');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^errors/${CLIENT}/accounts_20200131\\.csv\\.json: incoming/${CLIENT}/accounts_20200131\\.csv REJECTED: 1 problem found; nothing loaded\n1 error\\(s\\)\n  line 2, column cash_balance: `,
      ),
    );
    expect(await run('reports', '--client', CLIENT, '--show', 'portfolios_20200131.csv')).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining(`no report errors/${CLIENT}/portfolios_20200131.csv.json`),
    });
  });

  it('reports lists a lenient load with its left-out rows and archived copy, and exits 0', async () => {
    const out = await run('reports', '--client', LENIENT, '--json');
    expect(out.code).toBe(0);
    const { reports } = JSON.parse(out.stdout) as { reports: FileReportEntry[] };
    expect(reports).toEqual([
      expect.objectContaining({
        file_name: 'transactions_20200130.csv',
        status: 'PERSISTED',
        rows: 2,
        rejected_rows: 1,
        error_count: 1,
        copy: `archive/${LENIENT}/transactions_20200130.csv`,
        report: null,
      }),
    ]);
    expect(reports[0]!.errors).toEqual([expect.objectContaining({ line: 4 })]);
    expect(await exists(reports[0]!.copy)).toBe(true);
  });
});
