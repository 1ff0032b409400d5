import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server the local cloud runs: where it listens, and how to stop it. */
export interface Listening {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Whether a Host header names loopback (any port: the IAM proxies pass a function's Host on unchanged). A page that
 * DNS rebinding pointed at 127.0.0.1 still sends its own name, and is refused.
 */
export const isLoopbackHost = (host: string | undefined) => host !== undefined && /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i.test(host);

/** Answers 421 to a request whose Host is not loopback; true when it did. */
export function refusedHost(req: IncomingMessage, res: ServerResponse): boolean {
  if (isLoopbackHost(req.headers.host)) return false;
  req.resume();
  res.writeHead(421, { 'content-type': 'text/plain', connection: 'close' }).end('misdirected request\n');
  return true;
}

/** An HTTP server that hands over each request with its whole body: the emulators here answer small API calls. */
export function bufferingServer(handle: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void): Server {
  return createServer((req, res) => {
    if (refusedHost(req, res)) return;
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

/**
 * A loopback front for a server the local cloud cannot change (DynamoDB Local): the Host is checked, requests and
 * answers stream through, and a caller that goes away takes its upstream request and answer with it. While the
 * server is down its callers' connections are cut, as a refused connection would be. `observe` sees each request
 * let through.
 */
export async function hostCheckingFront(
  targetPort: number,
  port = 0,
  observe?: (req: IncomingMessage, res: ServerResponse) => void,
  /** The request's headers as the server behind is to see them. */
  headersFor: (req: IncomingMessage) => IncomingMessage['headers'] = (req) => req.headers,
): Promise<Listening> {
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 8 });
  const server = createServer((req, res) => {
    if (refusedHost(req, res)) return;
    observe?.(req, res);
    const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: headersFor(req), agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      pipeline(answer, res, () => undefined);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    pipeline(req, upstream, () => undefined);
  });
  const listening = await listenOnLoopback(server, port);
  return {
    ...listening,
    stop: async () => {
      await listening.stop();
      agent.destroy();
    },
  };
}
