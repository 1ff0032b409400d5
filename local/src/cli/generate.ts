import { FileType } from '@dataharvest/events/batch';
import { generate } from '../generate/index';
import { UsageError } from './errors';

/** `dataharvest generate`: a seeded, valid file for benchmarks and large-file tests. */
export async function generateCommand(values: { type?: string; rows?: string; seed?: string; out?: string }): Promise<number> {
  const type = FileType.safeParse(values.type);
  if (!type.success) throw new UsageError(`--type must be one of ${FileType.options.join(', ')}`);
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1) throw new UsageError('--rows takes a positive whole number');
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  const out = values.out ?? `${type.data}_20200130.csv`;
  await generate({ type: type.data, rows, seed, out });
  process.stdout.write(`wrote ${rows} ${type.data} rows to ${out}\n`);
  return 0;
}
