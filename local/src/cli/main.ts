import { failureCode } from './failure';
import { program } from './program';

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
    code = failureCode(error, (line) => process.stderr.write(line));
  });
await exit(code);
