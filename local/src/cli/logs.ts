import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { CloudError } from '../cloud/errors';
import { logFile, previousLogFile } from './log-file';
import { formatLogLine } from './log-format';

export interface LogsOptions {
  dataDir: string;
  /** Only the functions whose name contains this. */
  function?: string;
  follow: boolean;
  json: boolean;
}

/** How often --follow looks for new lines. */
const POLL_MS = 250;

/** One line of cloud.log as an object (every line is one: log-file.ts writes them so), with its function. */
function entryOf(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {}
  return { message: line };
}

/**
 * `dataharvest logs`: the function logs of the local cloud on the data dir (`up` and a `run` of its own write them
 * to cloud.log), printed as `up` prints them, optionally one function's only; `--follow` keeps printing new lines
 * until Ctrl-C, like `sam logs --tail`.
 */
export async function logs(opts: LogsOptions): Promise<number> {
  const path = logFile(opts.dataDir);
  if (!opts.follow && !existsSync(path)) throw new CloudError(`no logs in ${path}: \`dataharvest up\` (or a run with a cloud of its own) writes them there`);
  const selected = (entry: Record<string, unknown>) => !opts.function || String(entry.function_name ?? '').includes(opts.function);
  const text = (line: string, entry: Record<string, unknown>) => formatLogLine(line, 'text', typeof entry.function_name === 'string' ? entry.function_name : undefined);

  // cloud.log through the tail from its start, so that --follow goes on exactly where the past lines end.
  const previous = previousLogFile(opts.dataDir);
  const tail = new Tail(path);
  const lines = [...(existsSync(previous) ? readFileSync(previous, 'utf8').split('\n').filter(Boolean) : []), ...tail.read(previous)];
  const shown = lines.map((line) => ({ line, entry: entryOf(line) })).filter((l) => selected(l.entry));
  if (opts.json && !opts.follow) {
    process.stdout.write(`${JSON.stringify({ logs: shown.map((l) => l.entry) })}\n`);
    return 0;
  }
  const print = (line: string) => {
    const entry = entryOf(line);
    if (selected(entry)) process.stdout.write(`${opts.json ? JSON.stringify(entry) : text(line, entry)}\n`);
  };
  for (const l of shown) print(l.line);
  if (!opts.follow) return 0;

  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  while (!stopped) {
    for (const line of tail.read(previous)) print(line);
    await delay(POLL_MS);
  }
  return 0;
}

/** The new whole lines of a file that grows, and is rotated (renamed to `rotated`) now and then. */
class Tail {
  private ino: number | undefined;
  private position = 0;

  constructor(private readonly path: string) {
    this.ino = existsSync(path) ? statSync(path).ino : undefined;
  }

  read(rotated: string): string[] {
    const now = existsSync(this.path) ? statSync(this.path) : undefined;
    const out: string[] = [];
    if (this.ino !== undefined && now?.ino !== this.ino) {
      // Rotated since the last look: first what the old file got after our position, then the new one from its start.
      if (existsSync(rotated) && statSync(rotated).ino === this.ino) out.push(...this.from(rotated));
      this.position = 0;
    }
    this.ino = now?.ino;
    if (now) out.push(...this.from(this.path));
    return out;
  }

  /** The whole lines from the position on; an unfinished last line (or character) waits for the next look. */
  private from(path: string): string[] {
    const size = statSync(path).size;
    if (size <= this.position) return [];
    const buffer = Buffer.alloc(size - this.position);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, this.position);
    } finally {
      closeSync(fd);
    }
    const end = buffer.lastIndexOf(0x0a);
    if (end < 0) return [];
    this.position += end + 1;
    return buffer.subarray(0, end).toString('utf8').split('\n').filter(Boolean);
  }
}
