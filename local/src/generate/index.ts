import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileType } from '@dataharvest/events/batch';
import { HEADERS, row } from './rows';
import { mix, seededRandom } from './random';

export interface GenerateOptions {
  type: FileType;
  rows: number;
  seed?: number;
  /** Mixed into the seed, so two clients' files differ. */
  client?: string;
  /** How many accounts transactions refer to; defaults to one per ten transactions (one per row for the others). */
  accounts?: number;
  /** Some client names quoted with a line break or doubled quotes inside, as RFC 4180 allows. */
  quoted?: boolean;
}

/** Rows per chunk: big enough to amortise the stream's overhead, small enough to keep memory flat. */
const ROWS_PER_CHUNK = 2000;

/** A seeded, valid CSV file of `rows` rows (LF line breaks, final newline), produced chunk by chunk. */
export function generateFile({ type, rows, seed = 1, client, accounts, quoted }: GenerateOptions): Readable {
  const effectiveSeed = client === undefined ? seed : mix(seed, client);
  const context = {
    seed: effectiveSeed,
    random: seededRandom(effectiveSeed),
    accounts: accounts ?? (type === 'transactions' ? Math.max(1, Math.ceil(rows / 10)) : rows),
    quoted,
  };
  let next = 0;
  return new Readable({
    read() {
      if (next > rows) return void this.push(null);
      let text = next === 0 ? `${HEADERS[type]}\n` : '';
      const last = Math.min(rows, next + ROWS_PER_CHUNK - 1);
      for (let id = Math.max(next, 1); id <= last; id++) text += `${row(type, id, context)}\n`;
      next = last + 1;
      this.push(Buffer.from(text, 'utf8'));
    },
  });
}

/** Writes a generated file to `out` (creating its folder): what `dataharvest generate` and the benchmark call. */
export async function generate(opts: GenerateOptions & { out: string }): Promise<void> {
  mkdirSync(dirname(opts.out), { recursive: true });
  await pipeline(generateFile(opts), createWriteStream(opts.out));
}
