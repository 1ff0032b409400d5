import { UsageError } from './errors';

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** A size as people write it: `1048576`, `512KiB`, `1MiB`, `64 MB`, `2GiB` (KiB = 1024 bytes, kB = 1000). */
export function parseSize(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNITS[match?.[2]?.toLowerCase() ?? 'x'];
  if (!match || unit === undefined) throw new UsageError(`${flag} takes a size such as 1MiB, 64MiB or 1048576, not "${text}"`);
  const bytes = Math.round(Number(match[1]) * unit);
  if (bytes < 1) throw new UsageError(`${flag} must be at least 1 byte`);
  return bytes;
}

/** The template parameter `--chunk-size` sets: files above it are loaded in chunks of about that size. */
export const chunkSizeParameters = (chunkSize: string | undefined): Record<string, string> => (chunkSize === undefined ? {} : { ChunkSize: String(parseSize(chunkSize, '--chunk-size')) });
