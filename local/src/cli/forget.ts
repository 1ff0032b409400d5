import { type ErasureFailure, normalReference, UUID, type ErasureRequest } from '@dataharvest/events/erasure';
import { createErasures } from '@dataharvest/shared/erasures';
import { CloudError } from '../cloud/errors';
import { type Connection, metastoreTable } from './connection';
import { UsageError } from './errors';
import { printable } from './printable';

export interface ForgetOptions {
  clientReference?: string;
  json: boolean;
  timeoutSeconds: number;
  /** How often the request is read back while the privacy service works. */
  pollMs?: number;
}

/** The reference is a UUID, checked before the command connects anywhere: a usage error otherwise. */
export function checkedReference(value: string | undefined): string {
  if (!value || !UUID.test(normalReference(value))) throw new UsageError('--client-reference takes a client reference (a UUID)');
  return value;
}

/**
 * `dataharvest forget --client-reference <uuid>`: asks the privacy service to erase a person (GDPR art. 17). The CLI
 * cannot reach the database (on AWS it is in a private VPC), so it writes an erasure request to the metastore, which
 * holds the reference's salted hash only, and waits until the service has recorded the outcome on it. It prints
 * counts, never the reference. Exit 1 when the service gave up (FAILED): what it could not erase, and why.
 */
export async function forget(on: Connection, opts: ForgetOptions): Promise<number> {
  const erasures = createErasures(on.aws.dynamo, metastoreTable(on.deployment));
  const request = await erasures.request(checkedReference(opts.clientReference));
  const until = Date.now() + opts.timeoutSeconds * 1000;
  let seen: ErasureRequest | undefined = request;
  while (seen?.status === 'REQUESTED') {
    if (Date.now() > until) {
      throw new CloudError(`erasure ${request.sk} not done after ${opts.timeoutSeconds}s: it stays requested; \`dataharvest failures\` shows whether the privacy service gave up`);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
    seen = await erasures.get(request.sk);
  }
  if (seen?.status !== 'DONE') return failed(request.sk, seen, await erasures.getFailure(request.sk), opts.json);
  const { counts } = seen;
  if (opts.json) process.stdout.write(`${JSON.stringify({ request: seen.sk, status: seen.status, requested_at: seen.requested_at, done_at: seen.done_at, ...counts })}\n`);
  else {
    const rows = Object.entries(counts?.rows ?? {}).map(([t, n]) => `${t} ${n}`);
    const objects = Object.entries(counts?.objects ?? {}).map(([f, n]) => `${f}/ ${n}`);
    process.stdout.write(
      counts?.found
        ? `erased at ${seen.done_at}: rows ${rows.join(', ') || 'none'}; objects rewritten ${objects.join(', ') || 'none'} (request ${seen.sk})\n`
        : `nothing held that reference; the request is recorded (${seen.sk})\n`,
    );
  }
  return 0;
}

/** A request the privacy service gave up on (or that is gone): what it could not erase, and how to go on. Exit 1. */
function failed(sk: string, request: ErasureRequest | undefined, failure: ErasureFailure | undefined, json: boolean): number {
  const notErased = failure?.not_erased ?? [];
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ request: sk, status: request?.status ?? 'GONE', failed_at: request?.failed_at, reason: failure?.reason, attempts: failure?.attempts, not_erased: notErased })}\n`,
    );
    return 1;
  }
  const lines = [
    `erasure ${sk} FAILED at ${request?.failed_at ?? '?'} after ${failure?.attempts ?? '?'} attempt(s): ${failure?.reason ?? 'no failure recorded'}`,
    ...notErased.map((n) => `  not erased: ${n.key}: ${n.reason}`),
    // The tables are erased last, as they are what finds the person in the objects: a retry needs them.
    '  the tables still hold the person until these are erased: fix what is named, then `dataharvest failures` lists the erasure and `dataharvest redrive --id ID` runs it again',
  ];
  process.stdout.write(`${lines.map(printable).join('\n')}\n`);
  return 1;
}
