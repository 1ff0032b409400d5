import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { until } from './until';

/** The compiled CLI (`npm run build`; jest's global setup builds it). */
const BIN = 'local/bin/dataharvest.mjs';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The compiled CLI in a process of its own: its exit code and output, whether it succeeds or not. */
export const cli = (...args: string[]): Promise<CliResult> => cliIn(undefined, ...args);

/** The CLI run from another checkout (a scratch copy holding a new service), as a user runs it from theirs. */
export const cliIn = (cwd: string | undefined, ...args: string[]): Promise<CliResult> =>
  promisify(execFile)('node', [resolve(BIN), ...args], { timeout: 240_000, cwd }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: CliResult) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

/** `dataharvest up` in a process of its own, its stdout and stderr collected as they come. */
export interface UpProcess {
  process: ReturnType<typeof spawnUp>;
  /** Everything up has printed so far. */
  output(): string;
  exited: Promise<number | null>;
  /** The match, once up's output holds `pattern`; fails, with the output, when up exits first or after `timeoutMs`. */
  printed(pattern: string | RegExp, timeoutMs?: number): Promise<string[]>;
  /** Ctrl-C, unless it has exited already; resolves with its exit code. */
  stop(): Promise<number | null>;
}

const spawnUp = (args: string[], cwd?: string) => spawn('node', [resolve(BIN), 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });

export const startUp = (...args: string[]): UpProcess => startUpIn(undefined, ...args);

/** `up` started from another checkout: it deploys that checkout's serverless-compose.yml. */
export function startUpIn(cwd: string | undefined, ...args: string[]): UpProcess {
  const child = spawnUp(args, cwd);
  let output = '';
  for (const s of [child.stdout, child.stderr]) s.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const running = () => child.exitCode === null && child.signalCode === null;
  const find = (pattern: string | RegExp) => (typeof pattern === 'string' ? (output.includes(pattern) ? [pattern] : undefined) : (pattern.exec(output) ?? undefined));
  return {
    process: child,
    output: () => output,
    exited,
    printed: (pattern, timeoutMs = 120_000) =>
      until(
        `${pattern} in up's output`,
        async () => {
          const found = find(pattern);
          if (found) return [...found];
          if (!running()) throw new Error(`up exited with ${child.exitCode ?? child.signalCode}`);
          return undefined;
        },
        timeoutMs,
      ).catch((e: Error) => {
        throw new Error(`${e.message}; up printed:\n${output}`);
      }),
    stop() {
      if (running()) child.kill('SIGINT');
      return exited;
    },
  };
}
