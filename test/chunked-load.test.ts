import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FILE_TYPES } from '@dataharvest/events/batch';
import { generate } from '../local/src/generate/index';

interface Report {
  stage: string;
  files: Record<string, { status: string; rows: number; chunks?: number }>;
  events: Array<Record<string, unknown>>;
}

const ROWS = 30_000;
const run = async (files: string, dataDir: string, extra: string[] = []) => {
  const { stdout } = await promisify(execFile)('node', ['local/bin/dataharvest.mjs', 'run', files, '--client', 'CHUNKY', '--json', '--data-dir', dataDir, ...extra], {
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Report;
};
/** The events without what differs between two runs of the same input: when they were published. */
const comparable = (events: Report['events']) => events.map(({ published_at: _, ...rest }) => rest).sort((a, b) => String(a.portfolio_reference).localeCompare(String(b.portfolio_reference)));

describe('a batch loaded in chunks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dataharvest-chunked-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as `postgres`, who must enter the data dirs inside
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads exactly as the single path does: quoted commas, doubled quotes and line breaks across 1 MiB chunks', async () => {
    const files = join(dir, 'files');
    for (const type of FILE_TYPES) await generate({ type, rows: ROWS, seed: 5, client: 'CHUNKY', accounts: ROWS, quoted: true, out: join(files, `${type}_20200130.csv`) });
    const single = await run(files, join(dir, 'single'));
    const chunked = await run(files, join(dir, 'chunked'), ['--chunk-size', '1MiB']);
    expect(single.stage).toBe('COMPLETE');
    expect(chunked.stage).toBe('COMPLETE');
    for (const type of FILE_TYPES) {
      const size = statSync(join(files, `${type}_20200130.csv`)).size;
      expect(chunked.files[type]).toMatchObject({ status: 'PERSISTED', rows: ROWS });
      expect(chunked.files[type]!.chunks).toBe(size > 2 ** 20 ? Math.ceil(size / 2 ** 20) : undefined);
      expect(single.files[type]).toMatchObject({ status: 'PERSISTED', rows: ROWS });
      expect(single.files[type]!.chunks).toBeUndefined();
    }
    expect(chunked.events).toHaveLength(ROWS);
    expect(comparable(chunked.events)).toEqual(comparable(single.events));
  }, 600_000);
});
