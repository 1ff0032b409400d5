import { setTimeout as delay } from 'node:timers/promises';
import { type Batch, eventVersion, type Stage } from '@dataharvest/events/batch';
import { fromStages } from '@dataharvest/events/state-machine';
import type { Metastore } from '@dataharvest/shared/metastore';
import { UsageError } from './errors';

export interface BackfillOptions {
  name: string;
  client?: string;
  since?: string;
  /** Wait until every queued batch is COMPLETE (or FAILED) again, at most this long. */
  waitSeconds?: number;
}

const POLL_MS = 250;

/** Stages in which a batch's relations are established, so a transformer can run over it. */
const RELATED_STAGES: Stage[] = fromStages('reopen');

/**
 * `dataharvest backfill <name>`: runs a newly deployed transformer (or a new version of one) over batches that were
 * related before it existed (or that an earlier version computed).
 * It only writes to the metastore; the transformer itself reacts through its stream filter, as for any batch.
 */
export async function backfill(metastore: Metastore, opts: BackfillOptions): Promise<number> {
  const entry = (await metastore.listRegistry()).find((e) => e.name === opts.name);
  if (!entry) throw new UsageError(`transformer "${opts.name}" is not registered: deploy its service first`);
  const batches = opts.client ? (await metastore.listClient(opts.client)).batches : await metastore.listByStages(RELATED_STAGES);
  const candidates = batches.filter((b) => b.relation_established && RELATED_STAGES.includes(b.stage) && (!opts.since || b.batch_date >= opts.since));
  const queued: Batch[] = [];
  // A batch done by an earlier version of the transformer runs again with the one deployed (its events' lineage names it).
  for (const batch of candidates) if (await metastore.reopenForTransformer(batch, opts.name, entry.contribution?.digest)) queued.push(batch);
  const ids = queued.map((b) => `${b.client}/${b.batch_date}`);
  process.stdout.write(`backfill ${opts.name}: ${queued.length} of ${candidates.length} related batch(es) queued${ids.length ? `: ${ids.join(', ')}` : ''}\n`);
  return opts.waitSeconds === undefined ? 0 : waitForBatches(metastore, opts.name, queued, opts.waitSeconds);
}

/**
 * `--wait`: each queued batch once it is settled again, COMPLETE with its republished events (a version higher than
 * before the backfill) or FAILED; exit 0 only when all completed in time.
 */
async function waitForBatches(metastore: Metastore, name: string, queued: Batch[], waitSeconds: number): Promise<number> {
  const deadline = Date.now() + waitSeconds * 1000;
  const pending = new Map(queued.map((b) => [`${b.client}/${b.batch_date}`, b]));
  let failed = 0;
  while (pending.size) {
    for (const [id, before] of pending) {
      const now = await metastore.getBatch(before.client, before.batch_date);
      const republished = now?.stage === 'COMPLETE' && now.transformers[name]?.status === 'DONE' && eventVersion(now) > eventVersion(before);
      const settled = republished || now?.stage === 'FAILED' || now === undefined || now.generation !== before.generation;
      if (!settled) continue;
      pending.delete(id);
      if (republished) process.stdout.write(`${id}: COMPLETE, version ${eventVersion(now)}, ${now.events_published ?? 0} event(s) published\n`);
      else if (now && now.generation !== before.generation) process.stdout.write(`${id}: superseded by a new upload, which runs every transformer\n`);
      else {
        failed += 1;
        process.stdout.write(`${id}: ${now?.stage ?? 'no longer in the metastore'}${now?.failure ? `: ${now.failure.reason}` : ''}\n`);
      }
    }
    if (!pending.size) break;
    if (Date.now() > deadline) {
      process.stdout.write(`timed out after ${waitSeconds}s; still running: ${[...pending.keys()].join(', ')}\n`);
      return 1;
    }
    await delay(POLL_MS);
  }
  return failed ? 1 : 0;
}
