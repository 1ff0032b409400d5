import type pg from 'pg';
import { type Person, RAW_TEXT } from './person';

/** `v` is the person, bound once per statement: $1 reference, $2 portfolios, $3/$4 (bank client, account) pairs. */
const PERSON = 'WITH v AS (SELECT $1::text AS ref, $2::text[] AS portfolios, $3::text[] AS account_clients, $4::text[] AS accounts)';
const ownAccount = (value: string) => `(t.client, ${value}) IN (SELECT * FROM unnest(v.account_clients, v.accounts))`;
/**
 * A rejected row's raw text holds the person when one of its fields (quotes aside) is theirs, or the reference anywhere;
 * `raw` is the column as text (rejects keep bytes: `RAW_TEXT`).
 */
const rawHolds = (scoped: boolean, raw: string) =>
  `(strpos(lower(${raw}), v.ref) > 0 OR EXISTS (SELECT 1 FROM unnest(string_to_array(replace(${raw}, '"', ''), ',')) f
     WHERE lower(trim(f)) = ANY(v.portfolios)${scoped ? ` OR ${ownAccount('trim(f)')}` : ''}))`;

/**
 * Which rows of a table belong to the person, by the columns that identify one (client_reference, portfolio_reference,
 * account_number, a data-quality issue's reference, a rejected row's raw text), whatever table holds them.
 */
function condition(columns: Set<string>, bytes: Set<string>): string | undefined {
  const scoped = columns.has('client');
  const parts: string[] = [];
  if (columns.has('client_reference')) parts.push('t.client_reference::text = v.ref');
  if (columns.has('portfolio_reference')) parts.push('t.portfolio_reference::text = ANY(v.portfolios)');
  // Account numbers are unique within a bank client only.
  if (columns.has('account_number') && scoped) parts.push(ownAccount('t.account_number::text'));
  if (columns.has('reference') && scoped) parts.push(`(t.reference = v.ref OR t.reference = ANY(v.portfolios) OR ${ownAccount('t.reference')})`);
  if (columns.has('raw')) parts.push(rawHolds(scoped, bytes.has('raw') ? RAW_TEXT('t.raw') : 't.raw'));
  return parts.length ? parts.join(' OR ') : undefined;
}

/**
 * Deletes the person's rows from every table of the schema that has an identifying column: the base tables (their
 * partitions through the parent), the relations, every transformer's results (scaffolded ones too, by their column
 * names) and the rejects. In the caller's transaction; returns the rows deleted per table, only counts.
 */
export async function eraseTables(db: pg.ClientBase, person: Person): Promise<Record<string, number>> {
  const { rows: tables } = await db.query<{ name: string; columns: string[]; bytes: string[] }>(
    `SELECT c.relname AS name, array_agg(a.attname::text) AS columns,
            coalesce(array_agg(a.attname::text) FILTER (WHERE a.atttypid = 'bytea'::regtype), '{}') AS bytes
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     GROUP BY c.relname ORDER BY c.relname`,
  );
  const accounts = person.holdings.flatMap((h) => h.accounts.map((a) => [h.client, a] as const));
  const params = [person.reference, person.holdings.flatMap((h) => h.portfolios), accounts.map(([c]) => c), accounts.map(([, a]) => a)];
  const deleted: Record<string, number> = {};
  for (const table of tables) {
    const where = condition(new Set(table.columns), new Set(table.bytes));
    if (!where) continue;
    const name = (await db.query<{ q: string }>('SELECT quote_ident($1) AS q', [table.name])).rows[0]!.q;
    const { rowCount } = await db.query(`${PERSON} DELETE FROM ${name} t USING v WHERE ${where}`, params);
    if (rowCount) deleted[table.name] = rowCount;
  }
  return deleted;
}
