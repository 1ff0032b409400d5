declare module 'kinesalite' {
  import type { Server } from 'node:net';
  export default function kinesalite(options?: Record<string, unknown>): Server;
}
