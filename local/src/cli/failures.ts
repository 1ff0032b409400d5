import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Connection } from './connection';
import { UsageError } from './errors';
import { type QueuedFailure, readFailures, release, remove, sqsClient } from './failure-queues';

/** What `failures --json` prints: per message, its fields without the receipt handle, queue URL and internal item. */
export interface FailuresListing {
  failures: Array<Omit<QueuedFailure, 'receiptHandle' | 'queueUrl' | 'failure'>>;
}

const shown = ({ receiptHandle: _, queueUrl: __, failure: ___, ...rest }: QueuedFailure) => rest;

const line = (f: QueuedFailure) =>
  [f.id, f.service, f.client ?? '?', f.batchDate ?? '?', f.generation === undefined ? 'gen ?' : `gen ${f.generation}`, `${f.attempts} attempt(s)`, `${f.firstSeen} … ${f.lastSeen}`, f.reason].join(
    '  ',
  );

/** `dataharvest failures [--json]`: what sits in every on-failure queue. Exit 1 when something does. */
export async function failures(on: Connection, opts: { json: boolean }, sqs: SQSClient = sqsClient(on)): Promise<number> {
  const queued = await readFailures(on, sqs);
  await release(sqs, queued);
  if (opts.json) process.stdout.write(`${JSON.stringify({ failures: queued.map(shown) } satisfies FailuresListing)}\n`);
  else if (!queued.length) process.stdout.write('no failures: every on-failure queue is empty\n');
  else {
    process.stdout.write('ID  SERVICE  CLIENT  BATCH  GENERATION  ATTEMPTS  FIRST … LAST SEEN  REASON\n');
    for (const f of queued) process.stdout.write(`${line(f)}\n`);
  }
  return queued.length ? 1 : 0;
}

/**
 * `dataharvest redrive [--id ID | --all]`: after a fix, re-triggers the step each chosen message is about through the
 * metastore (metastore.redriveBatch: the change feed delivers the batch again for its current generation, a FAILED
 * batch starts a new one), then removes the message and its failure item. A message that names no batch stays.
 */
export async function redrive(on: Connection, opts: { id?: string; all: boolean }, sqs: SQSClient = sqsClient(on)): Promise<number> {
  if (!opts.all === !opts.id) throw new UsageError('redrive takes --id ID (from `dataharvest failures`) or --all');
  // Hidden while we work, so a second redrive does not take the same messages.
  const queued = await readFailures(on, sqs, 120);
  const chosen = opts.all ? queued : queued.filter((f) => f.id === opts.id);
  const rest = queued.filter((f) => !chosen.includes(f));
  try {
    if (opts.id && !chosen.length) throw new UsageError(`no message ${opts.id} in any on-failure queue: see \`dataharvest failures\``);
    const done = new Map<string, string>();
    let left = 0;
    for (const f of chosen) {
      if (!f.failure) {
        rest.push(f);
        left += 1;
        process.stdout.write(`${f.id} ${f.service}: names no batch in the metastore${f.objectKey ? '; upload the file again' : ''}; left in the queue\n`);
        continue;
      }
      const { client, batch_date: batchDate, generation } = f.failure;
      const batch = `${client}/${batchDate}#${generation}`;
      // One re-delivery per batch wakes every step it waits for; the other messages about it go with it.
      if (!done.has(batch)) done.set(batch, await on.metastore.redriveBatch(client, batchDate, generation));
      await remove(sqs, f);
      const same = (o: QueuedFailure) => o.failure?.pk === f.failure!.pk && o.failure.sk === f.failure!.sk;
      if (!rest.some(same)) await on.metastore.clearFailure(f.failure);
      process.stdout.write(`${f.id} ${f.service} ${client}/${batchDate} generation ${generation}: ${done.get(batch)}\n`);
    }
    return left ? 1 : 0;
  } finally {
    await release(sqs, rest);
  }
}
