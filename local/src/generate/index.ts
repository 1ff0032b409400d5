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
  /** Mixed into the values only (amounts, names), not the references: a client's batches of two days differ in figures, not in who. */
  day?: string;
  /** How many transactions name an account the batch does not have, spread evenly over the file. */
  orphans?: number;
}

/** Rows per chunk: big enough to amortise the stream's overhead, small enough to keep memory flat. */
const ROWS_PER_CHUNK = 2000;

/** A seeded, valid CSV file of `rows` rows (LF line breaks, final newline), produced chunk by chunk. */
export function generateFile({ type, rows, seed = 1, client, accounts, quoted, day, orphans = 0 }: GenerateOptions): Readable {
  const effectiveSeed = client === undefined ? seed : mix(seed, client);
  const context = {
    seed: effectiveSeed,
    random: seededRandom(day === undefined ? effectiveSeed : mix(effectiveSeed, day)),
    accounts: accounts ?? (type === 'transactions' ? Math.max(1, Math.ceil(rows / 10)) : rows),
    quoted,
    // Exactly `orphans` of the ids 1..rows, evenly apart: id is one where floor(id * orphans / rows) steps up.
    orphan: orphans > 0 ? (id: number) => Math.floor((id * orphans) / rows) > Math.floor(((id - 1) * orphans) / rows) : undefined,
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
