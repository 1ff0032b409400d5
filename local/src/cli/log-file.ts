import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { formatLogLine } from './log-format';

/** Where a local cloud's function logs go, `up`'s and a `run`'s own alike: `dataharvest logs` reads them. */
export const logFile = (dataDir: string) => join(dataDir, 'cloud.log');

/** The file's previous part once it outgrew the cap: one part is kept, so the logs take at most twice the cap. */
export const previousLogFile = (dataDir: string) => `${logFile(dataDir)}.1`;

/** How large cloud.log grows before it is rotated to cloud.log.1. */
export const LOG_FILE_CAP = 16 * 1024 * 1024;

export interface LogWriter {
  write(line: string, functionName?: string): void;
  end(): void;
}

/**
 * One line of the file: the line as `up --log-format json` prints it (a function's Powertools entry as it is, any
 * other line as `{timestamp, function_name, message}`), with the function's name on every line that has one, so
 * `logs --function` can select it (an EMF metrics line carries none of its own).
 */
export function fileLine(line: string, functionName?: string): string {
  const json = formatLogLine(line, 'json', functionName);
  if (!functionName || json.includes('"function_name"')) return json;
  try {
    return JSON.stringify({ ...(JSON.parse(json) as object), function_name: functionName });
  } catch {
    return json;
  }
}

/**
 * Appends log lines to the data dir's cloud.log, opened on the first line (a cloud that never starts leaves no
 * file), and rotated to cloud.log.1 once it passes `cap` bytes. Each line is written at once (a small write per
 * line, as to the terminal): nothing is pending when the file is rotated or the process exits.
 */
export function openLogFile(dataDir: string, cap = LOG_FILE_CAP): LogWriter {
  const path = logFile(dataDir);
  let fd: number | undefined;
  let size = 0;
  const open = () => {
    mkdirSync(dataDir, { recursive: true });
    fd = openSync(path, 'a');
    size = fstatSync(fd).size;
  };
  return {
    write(line, functionName) {
      if (fd === undefined) open();
      const text = Buffer.from(`${fileLine(line, functionName)}\n`);
      if (size > 0 && size + text.length > cap) {
        closeSync(fd!);
        renameSync(path, previousLogFile(dataDir));
        open();
      }
      writeSync(fd!, text);
      size += text.length;
    },
    end() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
