import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import { CsvValidator } from '@dataharvest/shared/load/csv-validator';
import { generate, generateFile } from '../src/generate/index';

const text = async (type: FileType, rows: number, seed = 1, client?: string) => {
  const chunks: Buffer[] = [];
  for await (const chunk of generateFile({ type, rows, seed, client })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

describe('generateFile', () => {
  it.each(FILE_TYPES)('writes %s files that persistence accepts, row for row', async (type) => {
    const v = new CsvValidator(type);
    v.push(await text(type, 5_000));
    v.end();
    expect({ rows: v.rows, errors: v.errors }).toEqual({ rows: 5_000, errors: [] });
  });

  it('is deterministic per seed and client', async () => {
    expect(await text('transactions', 500, 7)).toEqual(await text('transactions', 500, 7));
    expect(await text('transactions', 500, 7)).not.toEqual(await text('transactions', 500, 8));
    expect(await text('clients', 50, 7, 'A')).not.toEqual(await text('clients', 50, 7, 'B'));
  });

  it('generates a related batch: portfolio k holds account k of client k, transactions use existing accounts', async () => {
    const lines = async (type: FileType, rows: number) =>
      (await text(type, rows))
        .toString()
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));
    const accounts = new Set((await lines('accounts', 100)).map((f) => f[1]));
    // Every 50th client's name is quoted with a comma in it: take the reference by its shape.
    const clients = new Set((await lines('clients', 100)).map((f) => f.find((v) => /^[0-9a-f-]{36}$/.test(v))));
    for (const [, account, , client] of await lines('portfolios', 100)) {
      expect(accounts.has(account)).toBe(true);
      expect(clients.has(client)).toBe(true);
    }
    for (const [, account] of await lines('transactions', 1_000)) expect(accounts.has(account)).toBe(true);
  });

  it('writes to a file for the CLI and the benchmark', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'generate-'));
    try {
      await generate({ type: 'accounts', rows: 3, seed: 1, out: join(dir, 'nested', 'accounts_20200130.csv') });
      expect(readFileSync(join(dir, 'nested', 'accounts_20200130.csv'), 'utf8').split('\n')).toHaveLength(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
