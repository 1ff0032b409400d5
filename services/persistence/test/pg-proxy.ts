import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of PostgreSQL, to take the database away and bring it back as an outage would: `down()`
 * cuts every open connection and refuses new ones; `up()` lets them through again.
 */
export class PgProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private available = true;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (!this.available) return void client.destroy();
      const upstream = createConnection(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  down(): void {
    this.available = false;
    for (const s of this.sockets) s.destroy();
  }

  up(): void {
    this.available = true;
  }

  /** Cuts the connections once `bytes` more have gone from us to PostgreSQL: an outage in the middle of a COPY. */
  downAfter(bytes: number): void {
    let seen = 0,
      fired = false;
    const watch = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen >= bytes && !fired) {
        fired = true;
        this.down();
      }
    };
    for (const s of this.sockets) s.on('data', watch);
    this.server!.on('connection', (s: Socket) => s.on('data', watch));
  }

  async stop(): Promise<void> {
    this.down();
    await new Promise((r) => this.server?.close(r));
  }
}
