import type { Harness } from './harness';

/** Which local cloud a scenario runs on: the default one, or one that chunks files above 64 KiB. */
export type CloudKind = 'default' | 'chunked';
export const CLOUD_PARAMETERS: Record<CloudKind, Record<string, string>> = { default: {}, chunked: { ChunkSize: '65536' } };

export interface Scenario {
  name: string;
  cloud: CloudKind;
  /** Quick enough for the subset `npm test` runs (test/chaos/chaos.test.ts). */
  fast?: boolean;
  /** Needs a cloud with a data dir and a DynamoDB Local of its own (an outage restarts it from its files); the others run in memory. */
  persistent?: boolean;
  /** Injects its faults into a run of `client`'s batch and returns where the outcome differs from a clean run. */
  run(h: Harness, client: string): Promise<string[]>;
}

/** The scenario's own client: its name, upper-cased; the prefix keeps it from matching anything in the data. */
export const clientOf = (name: string) => `CHAOS_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
