import type { SQSClient } from '@aws-sdk/client-sqs';
import { createErasures } from '@dataharvest/shared/erasures';
import { type Connection, ingestBucket, metastoreTable } from './connection';
import { UsageError } from './errors';
import { type QueuedFailure, readFailures, release, remove, sqsClient } from './failure-queues';
import { standings } from './failure-resolution';
import { printable } from './printable';
import { retriggerUpload } from './retrigger';

/** What `failures --json` prints: per message, its fields without the receipt handle, queue URL and internal item. */
export interface FailuresListing {
  failures: Array<Omit<QueuedFailure, 'receiptHandle' | 'queueUrl' | 'failure'> & { resolved?: string }>;
}

const shown = ({ receiptHandle: _, queueUrl: __, failure: ___, ...rest }: QueuedFailure) => rest;

/** The file an S3-triggered failure was about (its name, as the client uploaded it), or the erasure request. */
export const fileOf = (f: QueuedFailure) => (f.objectKey ? (f.objectKey.split('/').at(-1) ?? f.objectKey) : f.erasure ? `erasure ${f.erasure.request}` : '-');

/** One message's line in the listing; its file name and reason may come from an upload, so it is `printable`. */
export const failureLine = (f: QueuedFailure, resolved: string | undefined) =>
  printable(
    [
      f.id,
      f.service,
      f.client ?? '?',
      f.batchDate ?? '?',
      fileOf(f),
      f.generation === undefined ? 'gen ?' : `gen ${f.generation}`,
      `${f.attempts} attempt(s)`,
      `${f.firstSeen} … ${f.lastSeen}`,
      f.reason + (resolved ? ` (resolved: ${resolved}; \`failures discard --resolved\` removes it)` : ''),
    ].join('  '),
  );

/** `dataharvest failures [--json]`: what sits in every on-failure queue. Exit 1 when something does. */
export async function failures(on: Connection, opts: { json: boolean }, sqs: SQSClient = sqsClient(on)): Promise<number> {
  const queued = await readFailures(on, sqs);
  await release(sqs, queued);
  const standing = await standings(on, queued);
  const resolvedOf = (f: QueuedFailure) => standing.get(f.id)?.resolved;
  if (opts.json) {
    const listing: FailuresListing = { failures: queued.map((f) => ({ ...shown(f), ...(resolvedOf(f) ? { resolved: resolvedOf(f) } : {}) })) };
    process.stdout.write(`${JSON.stringify(listing)}\n`);
  } else if (!queued.length) process.stdout.write('no failures: every on-failure queue is empty\n');
  else {
    process.stdout.write('ID  SERVICE  CLIENT  BATCH  FILE  GENERATION  ATTEMPTS  FIRST … LAST SEEN  REASON\n');
    for (const f of queued) process.stdout.write(`${failureLine(f, resolvedOf(f))}\n`);
  }
  return queued.length ? 1 : 0;
}

/** One message or all of them, checked before the command connects anywhere: a usage error otherwise. */
export function checkRedrive(opts: { id?: string; all: boolean }): void {
  if (!opts.all === !opts.id) throw new UsageError('redrive takes --id ID (from `dataharvest failures`) or --all');
}

/**
 * `dataharvest redrive [--id ID | --all]`: after a fix, re-triggers the step each chosen message is about through the
 * metastore (metastore.redriveBatch: the change feed delivers the batch again for its current generation, a FAILED
 * batch starts a new one), then removes the message and its failure item. A persistence failure whose upload still
 * waits in incoming/ is re-triggered by copying the object onto itself (S3 notifies persistence again); one whose upload
 * has left incoming/ stays, with what to do instead. A message that names no batch stays.
 */
export async function redrive(on: Connection, opts: { id?: string; all: boolean }, sqs: SQSClient = sqsClient(on)): Promise<number> {
  checkRedrive(opts);
  // Hidden while we work, so a second redrive does not take the same messages.
  const queued = await readFailures(on, sqs, 120);
  const chosen = opts.all ? queued : queued.filter((f) => f.id === opts.id);
  const rest = queued.filter((f) => !chosen.includes(f));
  try {
    if (opts.id && !chosen.length) throw new UsageError(`no message ${opts.id} in any on-failure queue: see \`dataharvest failures\``);
    const done = new Map<string, string>();
    const standing = await standings(
      on,
      chosen.filter((f) => f.objectKey),
    );
    let left = 0;
    for (const f of chosen) {
      if (f.objectKey) {
        const { inIncoming, resolved } = standing.get(f.id) ?? {};
        const what = `${f.id} ${f.service} ${f.client ?? '?'}/${f.batchDate ?? '?'} ${fileOf(f)}`;
        if (!inIncoming) {
          rest.push(f);
          left += 1;
          const why = resolved ?? 'moved to archive/ or quarantine/ by a later attempt or upload';
          process.stdout.write(`${what}: no longer in incoming/ (${why}), nothing to re-run; left in the queue: \`dataharvest failures discard --id ${f.id}\` removes it\n`);
          continue;
        }
        // One copy per upload: the other messages about it go with it.
        const upload = `${f.bucket}/${f.objectKey}`;
        if (!done.has(upload)) {
          await retriggerUpload(on, f.bucket ?? ingestBucket(on.deployment), f.objectKey);
          done.set(upload, 're-triggered: S3 notifies persistence of the upload again');
        }
        await remove(sqs, f);
        process.stdout.write(`${what}: ${done.get(upload)}\n`);
        continue;
      }
      if (f.erasure) {
        // The request REQUESTED again: the change feed delivers it to the privacy service on a new record.
        const request = `erasure ${f.erasure.request}`;
        if (!done.has(request))
          done.set(request, (await createErasures(on.aws.dynamo, metastoreTable(on.deployment)).redrive(f.erasure.request)) ? 'requested again' : 'DONE already, nothing to re-run');
        await remove(sqs, f);
        process.stdout.write(`${f.id} ${f.service} ${request}: ${done.get(request)}\n`);
        continue;
      }
      if (!f.failure) {
        rest.push(f);
        left += 1;
        process.stdout.write(`${f.id} ${f.service}: names no batch in the metastore; left in the queue\n`);
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
