import type { Stage } from '@dataharvest/events/batch';
import { fromStages } from '@dataharvest/events/state-machine';
import type { Metastore } from '@dataharvest/shared/metastore';
import { UsageError } from './errors';

export interface BackfillOptions {
  name: string;
  client?: string;
  since?: string;
}

/** Stages in which a batch's relations are established, so a transformer can run over it. */
const RELATED_STAGES: Stage[] = fromStages('reopen');

/**
 * `dataharvest backfill <name>`: runs a newly deployed transformer over batches that were related before it existed.
 * It only writes to the metastore; the transformer itself reacts through its stream filter, as for any batch.
 */
export async function backfill(metastore: Metastore, opts: BackfillOptions): Promise<number> {
  if (!(await metastore.listRegistry()).some((e) => e.name === opts.name)) {
    throw new UsageError(`transformer "${opts.name}" is not registered: deploy its service first`);
  }
  const batches = opts.client ? (await metastore.listClient(opts.client)).batches : await metastore.listByStages(RELATED_STAGES);
  const candidates = batches.filter((b) => b.relation_established && RELATED_STAGES.includes(b.stage) && (!opts.since || b.batch_date >= opts.since));
  let reopened = 0;
  for (const batch of candidates) if (await metastore.reopenForTransformer(batch, opts.name)) reopened += 1;
  process.stdout.write(`backfill ${opts.name}: ${reopened} of ${candidates.length} related batch(es) queued\n`);
  return 0;
}
