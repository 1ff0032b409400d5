import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DiscardRecord } from '@dataharvest/events/discard';
import { createDiscards } from '@dataharvest/shared/discards';
import type { Connection } from './connection';
import { UsageError } from './errors';
import { type QueuedFailure, readFailures, release, remove, sqsClient } from './failure-queues';
import { standings } from './failure-resolution';
import { fileOf } from './failures';

/** What `failures discard --json` prints: each discarded message as the metastore recorded it. */
export interface DiscardListing {
  discarded: DiscardRecord[];
}

/**
 * `dataharvest failures discard (--id ID | --resolved)`: removes on-failure messages that need no redrive. `--resolved`
 * takes every message whose batch has moved on since (failure-resolution.ts); `--id` one message, whatever it is about.
 * Each discard is recorded in the metastore first (what, when, why), then the message and, once no other message
 * needs it, its failure item are removed.
 */
export async function discard(on: Connection, opts: { id?: string; resolved: boolean; json: boolean }, sqs: SQSClient = sqsClient(on)): Promise<number> {
  if (!opts.resolved === !opts.id) throw new UsageError('failures discard takes --id ID (from `dataharvest failures`) or --resolved');
  // Hidden while we work, as redrive hides them, so the two never take the same message.
  const queued = await readFailures(on, sqs, 120);
  const standing = await standings(on, queued);
  const why = (f: QueuedFailure) => standing.get(f.id)?.resolved;
  const chosen = opts.id ? queued.filter((f) => f.id === opts.id) : queued.filter((f) => why(f));
  const rest = queued.filter((f) => !chosen.includes(f));
  try {
    if (opts.id && !chosen.length) throw new UsageError(`no message ${opts.id} in any on-failure queue: see \`dataharvest failures\``);
    const discards = createDiscards(on.aws.dynamo, on.metastore.tableName);
    const discarded: DiscardRecord[] = [];
    for (const f of chosen) {
      const record = await discards.record({
        message_id: f.id,
        service: f.service,
        ...(f.client ? { client: f.client } : {}),
        ...(f.batchDate ? { batch_date: f.batchDate } : {}),
        ...(f.generation === undefined ? {} : { generation: f.generation }),
        ...(f.objectKey ? { object_key: f.objectKey } : {}),
        reason: f.reason,
        why: why(f) ? `resolved: ${why(f)}` : 'discarded by the operator (--id)',
      });
      await remove(sqs, f);
      const same = (o: QueuedFailure) => o.failure?.pk === f.failure?.pk && o.failure?.sk === f.failure?.sk;
      if (f.failure && !rest.some(same)) await on.metastore.clearFailure(f.failure);
      discarded.push(record);
      if (!opts.json) process.stdout.write(`${f.id} ${f.service} ${f.client ?? '?'}/${f.batchDate ?? '?'} ${fileOf(f)}: discarded (${record.why})\n`);
    }
    if (opts.json) process.stdout.write(`${JSON.stringify({ discarded } satisfies DiscardListing)}\n`);
    else if (!discarded.length) process.stdout.write('nothing to discard: no message in the on-failure queues is about a batch that has moved on\n');
    return 0;
  } finally {
    await release(sqs, rest);
  }
}
