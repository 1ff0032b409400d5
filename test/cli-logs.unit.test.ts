import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLogFile } from '../local/src/cli/log-file';
import { cli } from './support/cli';
import { until } from './support/until';

/** A function's Powertools line, as the local cloud hands it to up's log callback. */
const powertools = (fn: string, message: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ level: 'INFO', message, timestamp: '2024-03-18T10:00:01.234Z', service: 's', function_name: fn, ...extra });
const PERSISTENCE = 'dataharvest-persistence-local-ingest';
const TAX = 'dataharvest-tax-local-transform';

/** What `dataharvest logs` reads: cloud.log in the data dir, written as `up` and `run` write it. Nothing starts. */
describe('dataharvest logs', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'dataharvest-logs-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const write = (lines: Array<[string, string | undefined]>, cap?: number) => {
    const log = openLogFile(dataDir, cap);
    for (const [line, fn] of lines) log.write(line, fn);
    log.end();
  };

  it('prints the function logs as up prints them, one function with --function, every entry with --json', async () => {
    write([
      [powertools(PERSISTENCE, 'file settled', { key: 'incoming/C/accounts_20240318.csv', rows: 2 }), PERSISTENCE],
      ['a line a function printed itself', TAX],
      ['{"_aws":{"Timestamp":1710756001234,"CloudWatchMetrics":[{"Metrics":[{"Name":"RowsLoaded"}]}]},"RowsLoaded":2}', PERSISTENCE],
      ['the local cloud deployed 11 stacks', undefined],
    ]);
    const all = await cli('logs', '--data-dir', dataDir);
    expect(all).toMatchObject({ code: 0, stderr: '' });
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`10:00:01.234 ${PERSISTENCE} INFO file settled key=incoming/C/accounts_20240318.csv rows=2`);
    expect(lines[1]).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${TAX} a line a function printed itself$`));
    expect(lines[2]).toBe(`10:00:01.234 ${PERSISTENCE} METRICS RowsLoaded=2`);
    expect(lines[3]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} the local cloud deployed 11 stacks$/);

    const tax = await cli('logs', '--function', 'tax', '--data-dir', dataDir);
    expect(tax.stdout.trimEnd().split('\n')).toEqual([lines[1]]);
    const json = JSON.parse((await cli('logs', '--function', 'persistence', '--json', '--data-dir', dataDir)).stdout) as { logs: Array<Record<string, unknown>> };
    expect(json.logs.map((e) => e.function_name)).toEqual([PERSISTENCE, PERSISTENCE]);
    expect(json.logs[0]).toMatchObject({ message: 'file settled', rows: 2 });
  });

  it('rotates cloud.log past its cap and reads both parts in order; no logs is exit 1', async () => {
    const lines = Array.from({ length: 40 }, (_, i): [string, string] => [powertools(TAX, `line ${i}`), TAX]);
    write(lines, 4096);
    expect(statSync(join(dataDir, 'cloud.log')).size).toBeLessThanOrEqual(4096);
    expect(existsSync(join(dataDir, 'cloud.log.1'))).toBe(true);
    const { stdout } = await cli('logs', '--data-dir', dataDir);
    const printed = stdout
      .trimEnd()
      .split('\n')
      .map((l) => /line (\d+)$/.exec(l)![1]);
    // One previous part is kept: the lines before it are gone, the rest are there in order.
    expect(printed.at(-1)).toBe('39');
    expect(printed).toEqual(printed.map((_, i) => String(40 - printed.length + i)));
    rmSync(dataDir, { recursive: true });
    expect(await cli('logs', '--data-dir', dataDir)).toEqual({
      code: 1,
      stdout: '',
      stderr: `dataharvest: no logs in ${join(dataDir, 'cloud.log')}: \`dataharvest up\` (or a run with a cloud of its own) writes them there\n`,
    });
  });

  it('--follow prints new lines as they are written, across a rotation, until Ctrl-C (exit 0)', async () => {
    write([[powertools(TAX, 'before'), TAX]]);
    const follow = spawn('node', ['local/bin/dataharvest.mjs', 'logs', '--follow', '--function', 'tax', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    follow.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => follow.once('exit', resolve));
    try {
      await until('the existing line', async () => (output.includes('INFO before') ? true : undefined), 30_000);
      const log = openLogFile(dataDir, 2048);
      for (let i = 0; i < 20; i++) log.write(powertools(TAX, `after ${i}`), TAX);
      log.write(powertools(PERSISTENCE, 'not followed'), PERSISTENCE);
      log.end();
      await until('the new lines', async () => (output.includes('INFO after 19') ? true : undefined), 30_000);
      expect(existsSync(join(dataDir, 'cloud.log.1'))).toBe(true);
      expect(output.match(/INFO after \d+/g)).toEqual(Array.from({ length: 20 }, (_, i) => `INFO after ${i}`));
      expect(output).not.toContain('not followed');
    } finally {
      follow.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
