import { connect, createServer } from 'node:net';
import { CloudError } from '../errors';

/** A free loopback port, found by letting the kernel pick one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The port asked for, checked to be free (a one-line error otherwise), or a free one when none was asked for. */
export async function pickPort(port: number | undefined, what: string): Promise<number> {
  if (port === undefined) return freePort();
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error) => reject(new CloudError(`port ${port} for ${what} is taken: stop whatever listens on it, or choose another port`, { cause: error })));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
  return port;
}

/** Waits until something accepts connections on the loopback port. */
export async function waitForPort(port: number, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`${what} did not start listening on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
