import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import pg from 'pg';
import type { LocalCloud } from '../../local/src/cloud/index';
import { type Connection, eventsStream, metastoreTable } from '../../local/src/cli/connection';
import { latestForBatch, readOutputEvents } from '../../local/src/cli/output-events';

/**
 * What a run of one client's batch leaves behind, with whatever differs between two runs of the same input taken
 * out: when things happened and how long they took, the ids of uploads and the client's own name. Two runs that lost
 * nothing, repeated nothing and mixed nothing up have equal snapshots.
 */
export interface Snapshot {
  /** Per table that holds client rows (base and transformer result tables, partitions folded into their parent): rows and an md5 of them. */
  tables: Record<string, { rows: number; md5: string }>;
  /** The client's metastore items (batch, refused keys), normalised. */
  items: unknown[];
  /** The batch's distinct published events (by event id), normalised, in a stable order. */
  events: unknown[];
  /** Steps whose records gave up (went to an on-failure queue): never part of a run that lost nothing. */
  gaveUp: string[];
}

/** Attributes that say when or how long, or name one upload (an object version, a chunked upload's id). */
const VOLATILE = /(^|_)at$|^at$|duration|_ms$|^ms$|^etag$|version_id|upload_id|^first_seen$|^last_seen$|^published_at$|^event_id$|^redriven_at$/;

/** Drops volatile attributes (and any listed in `ignore`) and writes the client's name as <client>, everywhere. */
export function normalise(value: unknown, client: string, ignore: ReadonlySet<string> = new Set()): unknown {
  if (typeof value === 'string') return value.replaceAll(client, '<client>').replaceAll(client.toLowerCase(), '<client>');
  if (Array.isArray(value)) return value.map((v) => normalise(v, client, ignore));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([k]) => !VOLATILE.test(k) && !ignore.has(k))
      .sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries.map(([k, v]) => [k, normalise(v, client, ignore)]));
  }
  return value;
}

/** Tables with a `client` column, partitions left out (their rows are read through the parent). */
const CLIENT_TABLES = `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'client' AND NOT a.attisdropped)
  ORDER BY 1`;

export interface Snapshotter {
  take(client: string, batchDate: string, ignore?: readonly string[]): Promise<Snapshot>;
  end(): Promise<void>;
}

export function snapshotter(cloud: LocalCloud, on: Connection): Snapshotter {
  const db = new pg.Pool({ connectionString: cloud.postgresUrl, max: 2 });
  // A restart the chaos causes (postgres-restarted-mid-load) ends the pool's idle clients: the fault, not an error.
  db.on('error', () => undefined);
  return {
    async take(client, batchDate, ignore = []) {
      const skip = new Set(ignore);
      const tables: Snapshot['tables'] = {};
      for (const { relname } of (await db.query<{ relname: string }>(CLIENT_TABLES)).rows) {
        // jsonb's text form orders keys, so a row's text is the same whatever the column order of its table.
        // The ignored attributes are left out of the rows too (a generation a history row was recorded in).
        const { rows } = await db.query<{ rows: string; md5: string }>(
          `SELECT count(*) AS rows, md5(coalesce(string_agg(r, E'\\n' ORDER BY r), '')) AS md5
             FROM (SELECT (to_jsonb(t) - 'client' - $2::text[])::text AS r FROM ${pg.escapeIdentifier(relname)} t WHERE client = $1) x`,
          [client, [...skip]],
        );
        const [{ rows: count, md5 }] = rows as [{ rows: string; md5: string }];
        // A table this client has no rows in (another scenario's leftover staging table) says nothing about it.
        if (Number(count)) tables[String(normalise(relname, client))] = { rows: Number(count), md5 };
      }
      const items: Array<Record<string, unknown>> = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await on.aws.dynamo.send(
          new QueryCommand({
            TableName: metastoreTable(on.deployment),
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `CLIENT#${client}` },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        items.push(...((page.Items ?? []) as Array<Record<string, unknown>>));
        start = page.LastEvaluatedKey;
      } while (start);
      // Failure records are the faults' own trace (attempts, reasons): only one that gave up means something was lost.
      const failures = items.filter((i) => String(i.sk).startsWith('FAILURE#'));
      const gaveUp = failures.filter((f) => f.gave_up === true).map((f) => String(f.sk));
      const kept = items.filter((i) => !String(i.sk).startsWith('FAILURE#') && (!String(i.sk).startsWith('BATCH#') || i.sk === `BATCH#${batchDate}`));
      // With `version` ignored, what a consumer holds: each portfolio's highest version (an earlier generation may or
      // may not have published before a correction, both as AWS would); otherwise every distinct event.
      const published = await readOutputEvents(on.aws.kinesis, eventsStream(on.deployment));
      const distinct = new Map<string, unknown>();
      const mine = skip.has('version') ? latestForBatch(published, client, batchDate) : published.filter((e) => e.client === client && e.batch_date === batchDate);
      for (const e of mine) distinct.set(e.event_id, normalise(e, client, skip));
      const events = [...distinct.values()].map((e) => JSON.stringify(e)).sort();
      return { tables, items: kept.map((i) => normalise(i, client, skip)), events: events.map((e) => JSON.parse(e)), gaveUp };
    },
    end: () => db.end(),
  };
}

/** Where two snapshots differ, one line each; none when they are equal. */
export function differences(expected: Snapshot, actual: Snapshot): string[] {
  const out: string[] = [];
  for (const name of new Set([...Object.keys(expected.tables), ...Object.keys(actual.tables)])) {
    const [e, a] = [expected.tables[name], actual.tables[name]];
    if (e?.md5 !== a?.md5) out.push(`table ${name}: ${e ? `${e.rows} rows (${e.md5.slice(0, 8)})` : 'absent'} in the clean run, ${a ? `${a.rows} rows (${a.md5.slice(0, 8)})` : 'absent'} here`);
  }
  out.push(...paired('metastore', expected.items, actual.items, (i) => String((i as { sk: unknown }).sk)));
  // One event per portfolio in a run that repeated nothing; a second version of one is counted here.
  if (expected.events.length !== actual.events.length) out.push(`events: ${expected.events.length} in the clean run, ${actual.events.length} here`);
  out.push(...paired('event', expected.events, actual.events, (e) => String((e as { portfolio_reference: unknown }).portfolio_reference)));
  for (const step of actual.gaveUp) out.push(`gave up: ${step}`);
  return out;
}

/** Items or events matched by key: each one missing, extra, or different, with its first difference. */
function paired(what: string, expected: unknown[], actual: unknown[], keyOf: (v: unknown) => string): string[] {
  // A key met again (a second event of one portfolio) is numbered, so that each is compared with its like.
  const byKey = (values: unknown[]) => {
    const map = new Map<string, unknown>();
    for (const v of values) {
      let key = keyOf(v);
      for (let n = 2; map.has(key); n++) key = `${keyOf(v)} #${n}`;
      map.set(key, v);
    }
    return map;
  };
  const [e, a] = [byKey(expected), byKey(actual)];
  const out: string[] = [];
  for (const [key, value] of e) {
    if (!a.has(key)) out.push(`${what} ${key}: missing here`);
    else {
      const first = firstDifference(value, a.get(key));
      if (first) out.push(`${what} ${key}: ${first}`);
    }
  }
  for (const key of a.keys()) if (!e.has(key)) out.push(`${what} ${key}: only here`);
  return out;
}

/** The first path at which two JSON values differ, as `path: <clean run's> in the clean run, <this> here`. */
export function firstDifference(expected: unknown, actual: unknown, path = ''): string | undefined {
  const text = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v).slice(0, 200));
  const bothObjects = [expected, actual].every((v) => v !== null && typeof v === 'object' && Array.isArray(v) === Array.isArray(expected));
  if (!bothObjects) return JSON.stringify(expected) === JSON.stringify(actual) ? undefined : `${path || '(the whole)'} ${text(expected)} in the clean run, ${text(actual)} here`;
  const [e, a] = [expected as Record<string, unknown>, actual as Record<string, unknown>];
  for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) {
    const found = firstDifference(e[key], a[key], path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return undefined;
}
