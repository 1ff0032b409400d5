import { CommanderError } from 'commander';
import { CloudError } from '../cloud/errors';
import { UsageError } from './errors';

/**
 * The exit code of a failure, its one line written to `writeErr`: a usage error is 2, a set-up the user can fix 1;
 * anything else is a bug, thrown.
 */
export function failureCode(error: unknown, writeErr: (line: string) => void): number {
  // commander has printed its own message (help and --version are "errors" with exit code 0).
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof UsageError || error instanceof CloudError) {
    writeErr(`dataharvest: ${error.message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
  throw error;
}
