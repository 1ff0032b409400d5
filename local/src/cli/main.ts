import { CommanderError } from 'commander';
import { CloudError } from '../cloud/errors';
import { UsageError } from './errors';
import { program } from './program';

/** The exit code of a failure: a usage error is 2, a set-up the user can fix 1; anything else is a bug, thrown. */
function failure(error: unknown): number {
  // commander has printed its own message (help and --version are "errors" with exit code 0).
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof UsageError || error instanceof CloudError) {
    process.stderr.write(`dataharvest: ${error.message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
  throw error;
}

/**
 * Exits once stdout and stderr have flushed: a pipe is written asynchronously, and exiting at once would cut a
 * large output short. The exit itself is needed: SDK keep-alive sockets and the like would hold the process open.
 */
async function exit(code: number): Promise<never> {
  process.exitCode = code;
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write('', resolve))));
  process.exit(code);
}

let code = 0;
await program((c) => {
  code = c;
})
  .parseAsync(process.argv.slice(2), { from: 'user' })
  .catch((error: unknown) => {
    code = failure(error);
  });
await exit(code);
