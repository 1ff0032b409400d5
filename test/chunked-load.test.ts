import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FILE_TYPES } from '@dataharvest/events/batch';
import type { Lineage } from '@dataharvest/events/lineage';
import { announceCloud, connectCloud } from '../local/src/cli/connection';
import { chunkSizeParameters } from '../local/src/cli/sizes';
import { LINEAGE_FILE } from '../local/src/cloud/emulators/services';
import { type LocalCloud, startCloud } from '../local/src/cloud/index';
import { generate } from '../local/src/generate/index';
import type { RunEvent } from '../shared/src/openlineage';
import { openLineageProblems } from './support/openlineage';

interface Report {
  stage: string;
  files: Record<string, { status: string; rows: number; chunks?: number; errors: Array<{ line: number; column?: string; reason: string }> }>;
  events: Array<Record<string, unknown>>;
}

/** The chunk size of the chunked path: persistence's least (its template's MinValue is 1 KiB), so few rows span chunks. */
const CHUNK = '64KiB';
/**
 * Rows of the holder files (accounts, clients, portfolios): enough that the clients file, the one with quoted names,
 * spans two chunks. Transactions need more rows per chunk: 1,875 of them span two chunks too.
 */
const HOLDERS = 1_250;
const TRANSACTIONS = 1_875;
const rowsOf = (type: string) => (type === 'transactions' ? TRANSACTIONS : HOLDERS);
const run = async (files: string, dataDir: string, extra: string[] = [], client = 'CHUNKY') => {
  const { stdout } = await promisify(execFile)('node', ['local/bin/dataharvest.mjs', 'run', files, '--client', client, '--json', '--data-dir', dataDir, ...extra], {
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Report;
};
/** The events without what differs between two runs of the same input: when they were published. */
const comparable = (events: Report['events']) =>
  events.map(({ published_at: _, lineage: _l, ...rest }) => rest).sort((a, b) => String(a.portfolio_reference).localeCompare(String(b.portfolio_reference)));

describe('a batch loaded in chunks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dataharvest-chunked-'));
  /**
   * Each path's runs use a cloud of the test's, announced on a data dir as `dataharvest up` announces its own: the
   * single path's with the default chunk size, the chunked path's with CHUNK (as `up --chunk-size` starts it).
   */
  const single = join(dir, 'single');
  const chunkedDir = join(dir, 'chunked');
  const clouds: LocalCloud[] = [];
  const forgets: Array<() => void> = [];
  beforeAll(async () => {
    for (const [dataDir, parameters] of [
      [single, {}],
      [chunkedDir, chunkSizeParameters(CHUNK)],
    ] as const) {
      mkdirSync(dataDir);
      const cloud = await startCloud({ parameters });
      clouds.push(cloud);
      forgets.push(announceCloud(dataDir, cloud));
    }
  }, 120_000);
  afterAll(async () => {
    for (const forget of forgets) forget();
    for (const cloud of clouds) await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads exactly as the single path does: quoted commas, doubled quotes and line breaks across chunks', async () => {
    const files = join(dir, 'files');
    for (const type of FILE_TYPES) await generate({ type, rows: rowsOf(type), seed: 5, client: 'CHUNKY', accounts: HOLDERS, quoted: true, out: join(files, `${type}_20200130.csv`) });
    const whole = await run(files, single);
    const chunked = await run(files, chunkedDir);
    expect(whole.stage).toBe('COMPLETE');
    expect(chunked.stage).toBe('COMPLETE');
    for (const type of FILE_TYPES) {
      const size = statSync(join(files, `${type}_20200130.csv`)).size;
      expect(chunked.files[type]).toMatchObject({ status: 'PERSISTED', rows: rowsOf(type) });
      expect(chunked.files[type]!.chunks).toBe(size > 2 ** 16 ? Math.ceil(size / 2 ** 16) : undefined);
      expect(whole.files[type]).toMatchObject({ status: 'PERSISTED', rows: rowsOf(type) });
      expect(whole.files[type]!.chunks).toBeUndefined();
    }
    // The chunks' money sums add up to the whole file's (control totals hold either file to it).
    const [wholeBatch, chunkedBatch] = await Promise.all(clouds.map((c) => connectCloud(c).metastore.getBatch('CHUNKY', '20200130')));
    for (const type of FILE_TYPES) expect([type, chunkedBatch!.files[type]!.money_sum]).toEqual([type, wholeBatch!.files[type]!.money_sum]);
    expect(wholeBatch!.files.accounts!.money_sum).toMatch(/^-?[1-9]\d*\.\d\d$/);
    for (const type of ['clients', 'portfolios', 'transactions']) expect(chunked.files[type]!.chunks).toBeGreaterThan(1);
    expect(chunked.events).toHaveLength(HOLDERS);
    expect(comparable(chunked.events)).toEqual(comparable(whole.events));

    // The lineage is the single path's: the same bytes and lines of every file, each with its upload's time.
    const lineageOf = (events: Report['events']) => new Map(events.map((e) => [e.portfolio_reference, e.lineage as Lineage]));
    const sameBytes = (l: Lineage) => ({ ...l, files: Object.fromEntries(Object.entries(l.files).map(([t, { uploaded_at: _u, version: _v, ...f }]) => [t, f])) });
    const [chunkedLineage, wholeLineage] = [lineageOf(chunked.events), lineageOf(whole.events)];
    for (const [portfolio, l] of chunkedLineage) {
      expect(Object.values(l.files).filter((f) => !f.sha256 || !f.uploaded_at)).toEqual([]);
      expect(sameBytes(l)).toEqual(sameBytes(wholeLineage.get(portfolio)!));
    }
    // A chunked file's load is one OpenLineage run: START from persistence, COMPLETE from the loader that settled it.
    await clouds[1]!.idle();
    const runs = readFileSync(join(clouds[1]!.dataDir, LINEAGE_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    expect(openLineageProblems(runs)).toEqual([]);
    const anyLineage = chunkedLineage.values().next().value!;
    for (const type of ['clients', 'portfolios', 'transactions']) {
      const key = `incoming/CHUNKY/${type}_20200130.csv`;
      const loads = runs.filter((r) => r.job.name === 'persistence' && r.inputs.some((i) => i.name === key));
      // At least once: two loaders settling the file at once (or a redelivered last chunk) repeat its COMPLETE, same run.
      expect([...new Set(loads.map((r) => r.eventType))]).toEqual(['START', 'COMPLETE']);
      expect(new Set(loads.map((r) => r.run.runId)).size).toBe(1);
      expect(loads.at(-1)!.inputs[0]!.facets).toMatchObject({ version: { datasetVersion: anyLineage.files[type]!.sha256 } });
      expect(loads.at(-1)!.outputs[0]).toMatchObject({ name: type, outputFacets: { outputStatistics: { rowCount: rowsOf(type) } } });
    }
  }, 600_000);

  it('refuses an invalid row in one chunk with the single path report, and record ids repeated across chunks', async () => {
    const files = join(dir, 'bad');
    const out = (type: string) => join(files, `${type}_20200130.csv`);
    const LARGE: Record<string, number> = { transactions: TRANSACTIONS, clients: HOLDERS };
    // Only the two refused files need chunks: the others are a few rows each.
    for (const type of FILE_TYPES) await generate({ type, rows: LARGE[type] ?? 10, seed: 6, client: 'CHUNKY', accounts: 10, out: out(type) });
    // Line 1,801 (record 1,800) gets an amount that is not money, in the second chunk.
    const lines = readFileSync(out('transactions'), 'utf8').split('\n');
    lines[1_800] = lines[1_800]!.replace(/,(-?\d+\.\d\d),/, ',12.5x,');
    writeFileSync(out('transactions'), lines.join('\n'));
    // Record 1,200 of the clients file takes record 2's id: the chunks that hold them are apart.
    const clients = readFileSync(out('clients'), 'utf8').split('\n');
    clients[1_200] = clients[1_200]!.replace(/^\d+,/, '2,');
    writeFileSync(out('clients'), clients.join('\n'));

    // Another client on the single path's cloud, whose first test loaded CHUNKY's batch of the same date.
    const whole = await run(files, single, [], 'CHUNKY_BAD').catch((e: { stdout: string }) => JSON.parse(e.stdout) as Report);
    const chunked = await run(files, chunkedDir, [], 'CHUNKY_BAD').catch((e: { stdout: string }) => JSON.parse(e.stdout) as Report);
    expect(chunked.files.transactions).toMatchObject({ status: 'REJECTED', rows: 0 });
    expect(chunked.files.transactions!.chunks).toBeGreaterThan(1);
    expect(chunked.files.transactions!.errors).toEqual(whole.files.transactions!.errors);
    expect(chunked.files.transactions!.errors[0]).toMatchObject({ line: 1_801, column: 'amount' });
    expect(whole.files.clients).toMatchObject({ status: 'REJECTED' });
    expect(chunked.files.clients).toMatchObject({ status: 'REJECTED', rows: 0 });
    expect(chunked.files.clients!.chunks).toBeGreaterThan(1);
    expect(chunked.files.clients!.errors).toEqual([expect.objectContaining({ column: 'record_id', reason: expect.stringMatching(/duplicate record_id 2\b/) })]);
  }, 600_000);
});
