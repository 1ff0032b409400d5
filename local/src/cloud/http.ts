import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server the local cloud runs: where it listens, and how to stop it. */
export interface Listening {
  endpoint: string;
  stop(): Promise<void>;
}

/** An HTTP server that hands over each request with its whole body: the emulators here answer small API calls. */
export function bufferingServer(handle: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks), res));
  });
}

/**
 * Listens on 127.0.0.1 (port 0: a free one). stop() also closes the sockets the SDK keeps alive, which would hold
 * the process open and keep close() from ever calling back.
 */
export async function listenOnLoopback(server: Server, port = 0): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
