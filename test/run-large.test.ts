import { execFile } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FILE_TYPES } from '@dataharvest/events/batch';
import { generate } from '../local/src/generate/index';
import { memoryDir } from '../local/src/cloud/emulators/memory-dir';

/** More portfolios than one GetRecords page (10,000 records) holds. */
const PORTFOLIOS = 10_050;

describe('dataharvest run --json on a large batch', () => {
  const dir = memoryDir('dataharvest-large-');
  chmodSync(dir, 0o755); // PostgreSQL runs as `postgres`, who must enter the data dir inside
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every event the batch published, past the first page of the output stream', async () => {
    const files = join(dir, 'files');
    // One event per portfolio, each with its account and client; an account without transactions is published at
    // zero, so a few transactions, spread over the accounts, are enough.
    const rows = (type: string) => (type === 'transactions' ? 100 : PORTFOLIOS);
    for (const type of FILE_TYPES) await generate({ type, rows: rows(type), seed: 3, client: 'BIG', accounts: PORTFOLIOS, out: join(files, `${type}_20200130.csv`) });
    const { stdout } = await promisify(execFile)('node', ['local/bin/dataharvest.mjs', 'run', files, '--client', 'BIG', '--json', '--data-dir', join(dir, 'cloud')], {
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const report = JSON.parse(stdout) as { stage: string; events: Array<{ portfolio_reference: string }> };
    expect(report.stage).toBe('COMPLETE');
    expect(report.events).toHaveLength(PORTFOLIOS);
    expect(new Set(report.events.map((e) => e.portfolio_reference)).size).toBe(PORTFOLIOS);
  }, 600_000);
});
