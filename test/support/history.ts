import { isoDate } from '@dataharvest/events/batch';
import type { Rows } from './chain';

/**
 * The history transformer's dimensions computed independently, in plain TypeScript over the batches' rows: what
 * `*_history` must hold and what `*_as_of(day)` must answer. Written from the definition (docs/history.md), not from
 * the SQL: a key's attributes per batch, versions as runs of consecutive batches with equal attributes.
 */
export type Dimension = 'clients' | 'accounts' | 'portfolios';
export const DIMENSIONS: readonly Dimension[] = ['clients', 'accounts', 'portfolios'];
export const KEYS: Record<Dimension, string> = { clients: 'client_reference', accounts: 'account_number', portfolios: 'portfolio_reference' };
export const ATTRIBUTES: Record<Dimension, readonly string[]> = {
  clients: ['first_name', 'last_name', 'tax_free_allowance'],
  accounts: ['currency', 'portfolio_reference', 'client_reference'],
  portfolios: ['account_number', 'client_reference', 'agent_code'],
};

/** A batch as the transformer last ran it: its date (YYYYMMDD), generation and rows. */
export interface RanBatch {
  date: string;
  generation: number;
  rows: Rows;
}

type Attributes = Record<string, string | null>;
/** A version as `*_history` holds it: the key and attributes, then valid_from, valid_to, is_current and generation. */
export type Version = Record<string, string | number | boolean | null>;

const money = (v: string) => Number(v).toFixed(2);

/** Each key's row with the lowest record_id. */
function firstByKey(rows: ReadonlyArray<Record<string, string>>, key: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const row of [...rows].sort((a, b) => Number(a.record_id) - Number(b.record_id))) if (!out.has(row[key]!)) out.set(row[key]!, row);
  return out;
}

/** One batch's attributes per key of a dimension. */
export function snapshot(dimension: Dimension, rows: Rows): Map<string, Attributes> {
  const out = new Map<string, Attributes>();
  if (dimension === 'clients') {
    for (const [k, r] of firstByKey(rows.clients, 'client_reference'))
      out.set(k, { client_reference: k, first_name: r.first_name!, last_name: r.last_name!, tax_free_allowance: money(r.tax_free_allowance!) });
  } else if (dimension === 'portfolios') {
    for (const [k, r] of firstByKey(rows.portfolios, 'portfolio_reference'))
      out.set(k, { portfolio_reference: k, account_number: r.account_number!, client_reference: r.client_reference!, agent_code: r.agent_code! });
  } else {
    // The holder: of the portfolios whose client and account are in the batch, the lowest reference holding the account.
    const clients = new Set(rows.clients.map((c) => c.client_reference));
    const accounts = firstByKey(rows.accounts, 'account_number');
    const linked = [...firstByKey(rows.portfolios, 'portfolio_reference').values()]
      .filter((p) => clients.has(p.client_reference) && accounts.has(p.account_number!))
      .sort((a, b) => (a.portfolio_reference! < b.portfolio_reference! ? -1 : 1));
    for (const [k, r] of accounts) {
      const holder = linked.find((p) => p.account_number === k);
      out.set(k, { account_number: k, currency: r.currency!, portfolio_reference: holder?.portfolio_reference ?? null, client_reference: holder?.client_reference ?? null });
    }
  }
  return out;
}

const same = (a: Attributes, b: Attributes) => JSON.stringify(a) === JSON.stringify(b);
/** Byte order, as PostgreSQL's "C" collation sorts. */
const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every version of every key, ordered by key and valid_from. */
export function versions(dimension: Dimension, batches: readonly RanBatch[]): Version[] {
  const ordered = [...batches].sort((a, b) => byBytes(a.date, b.date));
  const snapshots = ordered.map((b) => snapshot(dimension, b.rows));
  const keys = [...new Set(snapshots.flatMap((s) => [...s.keys()]))].sort(byBytes);
  const out: Version[] = [];
  for (const key of keys) {
    let open: Version | undefined;
    for (const [i, batch] of ordered.entries()) {
      const attributes = snapshots[i]!.get(key);
      if (open && (!attributes || !same(attributes, snapshots[i - 1]!.get(key)!))) {
        open.valid_to = isoDate(batch.date);
        open.is_current = false;
        open = undefined;
      }
      if (attributes && !open) {
        open = { ...attributes, valid_from: isoDate(batch.date), valid_to: null, is_current: true, generation: batch.generation };
        out.push(open);
      }
    }
  }
  return out;
}

/** What each key was on a day (YYYY-MM-DD): its row in the latest batch on or before it, ordered by key. */
export function asOf(dimension: Dimension, batches: readonly RanBatch[], day: string): Attributes[] {
  const latest = [...batches].filter((b) => isoDate(b.date) <= day).sort((a, b) => byBytes(b.date, a.date))[0];
  if (!latest) return [];
  return [...snapshot(dimension, latest.rows).entries()].sort(([a], [b]) => byBytes(a, b)).map(([, attributes]) => attributes);
}

type Query = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

/** The versions `<dimension>_history` holds for a client, in `versions`' shape and order. */
export function storedVersions(query: Query, dimension: Dimension, client: string): Promise<Array<Record<string, unknown>>> {
  const key = KEYS[dimension];
  const attributes = ATTRIBUTES[dimension].map((a) => `${a}::text`);
  return query(
    `SELECT ${key}::text, ${attributes.join(', ')}, valid_from::text, valid_to::text, is_current, generation
     FROM ${dimension}_history WHERE client = $1 ORDER BY ${key}::text COLLATE "C", valid_from`,
    [client],
  );
}

/** What `<dimension>_as_of(day)` answers for a client, in `asOf`'s shape and order. */
export function storedAsOf(query: Query, dimension: Dimension, client: string, day: string): Promise<Array<Record<string, unknown>>> {
  const key = KEYS[dimension];
  const attributes = ATTRIBUTES[dimension].map((a) => `${a}::text`);
  return query(`SELECT ${key}::text, ${attributes.join(', ')} FROM ${dimension}_as_of($2::date) WHERE client = $1 ORDER BY ${key}::text COLLATE "C"`, [client, day]);
}
