import type { Batch, FileErasure } from '@dataharvest/events/batch';
import { Lineage, linesOf } from '@dataharvest/events/lineage';
import { type Connection, eventsStream } from './connection';
import { EventSelection, type PublishedEvent } from './event-selection';
import { StreamReader } from './stream-reader';

/** Which event: by its id, or the highest version of one portfolio's event of a batch. */
export type LineageQuery = { eventId: string } | { client: string; date: string; portfolio: string };

export interface LineageOptions {
  json: boolean;
}

/**
 * `dataharvest lineage`: the chain from a published event back to the bytes it was computed from. The event (read
 * from the output stream as `events` reads it) names the files as uploaded, with their SHA-256 and the lines that
 * belong to its portfolio, and the code digests of the steps and rules; the metastore adds how the batch went
 * through its stages. Exit 0 when the event was found, 1 when not (never published, or past the stream's retention).
 */
export async function lineage(on: Connection, query: LineageQuery, opts: LineageOptions): Promise<number> {
  const event = findEvent(await new StreamReader(on.aws.kinesis, eventsStream(on.deployment)).read(), query);
  if (!event) {
    process.stdout.write(opts.json ? `${JSON.stringify({ event: null })}\n` : `no event ${'eventId' in query ? query.eventId : `${query.client} ${query.date} ${query.portfolio}`}\n`);
    return 1;
  }
  const parsed = Lineage.safeParse(event.lineage);
  const batch = await on.metastore.getBatch(event.client, event.batch_date);
  const chain = { ...identity(event), lineage: parsed.success ? withLines(parsed.data, batch) : null, batch: batch ? batchPart(batch) : null };
  process.stdout.write(opts.json ? `${JSON.stringify(chain)}\n` : text(chain));
  return 0;
}

function findEvent(records: unknown[], query: LineageQuery): PublishedEvent | undefined {
  if ('eventId' in query) return records.find((r) => (r as PublishedEvent | undefined)?.event_id === query.eventId) as PublishedEvent | undefined;
  const selection = new EventSelection({ client: query.client, date: query.date, allVersions: false });
  selection.add(records);
  return selection.events().find((e) => e.portfolio_reference === query.portfolio.toLowerCase());
}

const identity = (e: PublishedEvent) => ({
  event_id: e.event_id,
  client: e.client,
  batch_date: e.batch_date,
  portfolio_reference: e.portfolio_reference,
  version: e.version,
  published_at: e.published_at,
});

/**
 * The event's lineage with each file's lines listed as numbers beside their ranges, and the erasures that rewrote the
 * file since (as the metastore records them on the upload the event names): its bytes no longer exist as such.
 */
const withLines = (l: Lineage, batch: Batch | undefined) => ({
  ...l,
  files: Object.fromEntries(
    Object.entries(l.files).map(([type, f]) => {
      const current = batch?.files[type];
      const erasures: FileErasure[] = current?.sha256 && current.sha256 === f.sha256 ? (current.erasures ?? []) : [];
      return [type, { ...f, line_numbers: linesOf(f.lines), ...(erasures.length ? { rewritten_by_erasure: erasures } : {}) }];
    }),
  ),
});

/** What the metastore says of the batch now: its generation, stage and the history of its stages. */
const batchPart = (b: Batch) => ({
  stage: b.stage,
  generation: b.generation,
  created_at: b.created_at,
  stage_history: b.stage_history ?? [],
  quality: b.quality ? { outcome: b.quality.outcome, rules_digest: b.quality.rules_digest } : undefined,
  current_files: Object.fromEntries(Object.entries(b.files).map(([type, f]) => [type, { key: f.key, sha256: f.sha256, status: f.status }])),
});

type Chain = ReturnType<typeof identity> & { lineage: ReturnType<typeof withLines> | null; batch: ReturnType<typeof batchPart> | null };

function text(c: Chain): string {
  const out = [`event ${c.event_id}: ${c.client} ${c.batch_date} portfolio ${c.portfolio_reference}, version ${c.version}, published ${c.published_at}`];
  if (!c.lineage) out.push('  no lineage: published before events carried one');
  else {
    out.push(`  generation ${c.lineage.generation}; files as uploaded:`);
    for (const [type, f] of Object.entries(c.lineage.files)) {
      const superseded = c.batch && c.batch.current_files[type]?.sha256 !== f.sha256 ? ' (since replaced by a newer upload)' : '';
      out.push(`    ${type.padEnd(12)} ${f.key}${superseded}`);
      out.push(`      sha256 ${f.sha256 ?? 'unknown'}, ${f.bytes} bytes${f.uploaded_at ? `, uploaded ${f.uploaded_at}` : ''}`);
      out.push(`      lines ${f.lines || 'none'}${f.lines_complete ? '' : ' … (more: the event lists the first ranges only)'}`);
      for (const e of f.rewritten_by_erasure ?? []) {
        out.push(`      rewritten by erasure ${e.request} at ${e.at}: the archive holds these bytes no more (now sha256 ${e.sha256}); the sha256 above is the upload's, for audit`);
      }
    }
    out.push(
      `  steps: ${
        Object.entries(c.lineage.transformers)
          .map(([name, digest]) => `${name} ${digest.slice(0, 12)}`)
          .join(', ') || 'no digests recorded'
      }`,
    );
    out.push(`  data-quality rules: ${c.lineage.quality_rules?.slice(0, 12) ?? 'no digest recorded'}`);
  }
  if (c.batch) {
    out.push(`  batch now: ${c.batch.stage}, generation ${c.batch.generation}${c.batch.quality ? `, data quality ${c.batch.quality.outcome}` : ''}`);
    out.push(`  stages: RECEIVING ${c.batch.created_at}${c.batch.stage_history.map((s) => ` → ${s.stage} ${s.at}`).join('')}`);
  } else out.push('  the batch is no longer in the metastore');
  return `${out.join('\n')}\n`;
}
