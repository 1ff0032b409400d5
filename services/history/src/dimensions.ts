/**
 * Slowly changing dimensions (type 2) of clients, accounts and portfolios: one row per version of a business key,
 * valid from the batch date it first appeared with these attributes until (not including) the batch date it changed
 * or went missing (`valid_to`; NULL while current). The versions are a function of the batches this transformer has
 * run for (`history_batches`) and their slices as they are now:
 *
 * - each batch is a full snapshot: a key missing from a batch closes its version at that batch's date;
 * - a version starts where a key's attribute hash differs from the previous batch's, or where it was missing there;
 * - its generation is the generation of the batch it starts at.
 *
 * A run for batch d rewrites exactly the versions that can depend on d's snapshot: those still open at p, the batch
 * before d (valid_to > p or NULL), and every version after them. The others end before p and depend only on batches up
 * to p, which d leaves unchanged. So the run recomputes the versions from the snapshots of p and every batch after it,
 * and a key's run starting at p continues the version open at p (same snapshot, so the same hash): that row keeps its
 * start and generation and gets its new end. For the newest batch that reads two slices; a correction or a late batch
 * reads from its predecessor on, and rewrites the later versions it affects in the same transaction.
 */

/** A business key's dimension: its table, key and tracked attributes (SQL types), and the batch snapshot they come from. */
export interface Dimension {
  table: string;
  key: string;
  keyType: string;
  attributes: Record<string, string>;
  /**
   * One row per (batch_date, key) of the client's batches from `since` on: batch_date, the key and the attributes.
   * A key repeated within a file takes its lowest record_id, as the relationship step does.
   */
  snapshot: (since: string) => string;
}

/** The batch before this one among those the transformer has run for; -infinity for the first. */
const PREVIOUS = `COALESCE((SELECT max(batch_date) FROM history_batches WHERE client = $1 AND batch_date < $2), '-infinity'::date)`;

export const DIMENSIONS: readonly Dimension[] = [
  {
    table: 'clients_history',
    key: 'client_reference',
    keyType: 'uuid',
    attributes: { first_name: 'text NOT NULL', last_name: 'text NOT NULL', tax_free_allowance: 'numeric(17,2) NOT NULL' },
    snapshot: (since) => `SELECT DISTINCT ON (batch_date, client_reference) batch_date, client_reference, first_name, last_name, tax_free_allowance
      FROM clients WHERE client = $1 AND batch_date >= ${since} ORDER BY batch_date, client_reference, record_id`,
  },
  {
    // The account's holder is the portfolio its transactions are counted under (transaction_links): the lowest linked one.
    table: 'accounts_history',
    key: 'account_number',
    keyType: 'text',
    attributes: { currency: 'char(3) NOT NULL', portfolio_reference: 'uuid', client_reference: 'uuid' },
    snapshot: (since) => `SELECT DISTINCT ON (a.batch_date, a.account_number) a.batch_date, a.account_number, a.currency, l.portfolio_reference, l.client_reference
      FROM accounts a LEFT JOIN portfolio_links l ON l.client = a.client AND l.batch_date = a.batch_date AND l.account_number = a.account_number
      WHERE a.client = $1 AND a.batch_date >= ${since} ORDER BY a.batch_date, a.account_number, a.record_id, l.portfolio_reference`,
  },
  {
    table: 'portfolios_history',
    key: 'portfolio_reference',
    keyType: 'uuid',
    attributes: { account_number: 'text NOT NULL', client_reference: 'uuid NOT NULL', agent_code: 'text NOT NULL' },
    snapshot: (since) => `SELECT DISTINCT ON (batch_date, portfolio_reference) batch_date, portfolio_reference, account_number, client_reference, agent_code
      FROM portfolios WHERE client = $1 AND batch_date >= ${since} ORDER BY batch_date, portfolio_reference, record_id`,
  },
];

/** The batches the transformer has run for, with the generation it ran: the versions are computed over these. */
export const BATCHES_DDL = `CREATE TABLE IF NOT EXISTS history_batches (client text NOT NULL, batch_date date NOT NULL, generation integer NOT NULL,
  PRIMARY KEY (client, batch_date))`;

/**
 * Records the batch, after taking the client's lock: two batches of one client never rewrite its history at once
 * (each would miss the other's batch). The statements after this one see what the previous holder committed.
 */
export const RECORD_BATCH = `WITH locked AS (SELECT pg_advisory_xact_lock(hashtext('dataharvest:history:' || $1::text)))
  INSERT INTO history_batches (client, batch_date, generation) SELECT $1, $2, current_setting('dataharvest.generation')::int FROM locked
  ON CONFLICT (client, batch_date) DO UPDATE SET generation = EXCLUDED.generation`;

const attributeNames = (d: Dimension) => Object.keys(d.attributes);

export const tableDdl = (d: Dimension) => `CREATE TABLE IF NOT EXISTS ${d.table} (client text NOT NULL, ${d.key} ${d.keyType} NOT NULL,
  ${Object.entries(d.attributes)
    .map(([name, type]) => `${name} ${type}`)
    .join(', ')},
  attributes_hash text NOT NULL, valid_from date NOT NULL, valid_to date, is_current boolean NOT NULL, generation integer NOT NULL,
  PRIMARY KEY (client, ${d.key}, valid_from), CHECK (valid_to IS NULL OR valid_to > valid_from), CHECK (is_current = (valid_to IS NULL)))`;

/** `<table without _history>_as_of(day)`: the version of every key that was valid on that day (none before its first batch). */
export const asOfDdl = (d: Dimension) => `CREATE OR REPLACE FUNCTION ${d.table.replace(/_history$/, '')}_as_of(on_day date) RETURNS SETOF ${d.table}
  LANGUAGE sql STABLE AS $$ SELECT * FROM ${d.table} WHERE valid_from <= on_day AND (valid_to IS NULL OR valid_to > on_day) $$`;

/** Removes the versions that start after the previous batch: they are computed again. */
export const deleteLater = (d: Dimension) => `DELETE FROM ${d.table} WHERE client = $1 AND valid_from > ${PREVIOUS}`;

/**
 * Computes the versions over the previous batch and every batch after it (gaps and islands: a run of consecutive batches
 * with the same hash is one version), inserts those that start after the previous batch and gives the version open at
 * it its new end.
 */
export function rewriteFrom(d: Dimension): string {
  const names = attributeNames(d);
  const list = names.join(', ');
  return `WITH since AS (SELECT ${PREVIOUS} AS day),
  batches AS (
    SELECT batch_date, generation, lag(batch_date) OVER (ORDER BY batch_date) AS previous_date, lead(batch_date) OVER (ORDER BY batch_date) AS next_date
    FROM history_batches WHERE client = $1 AND batch_date >= (SELECT day FROM since)),
  snapshots AS (
    SELECT s.*, md5(ROW(${names.map((n) => `s.${n}`).join(', ')})::text) AS attributes_hash
    FROM (${d.snapshot('(SELECT day FROM since)')}) s),
  marked AS (
    SELECT s.*, b.generation, b.next_date,
      COALESCE(lag(s.batch_date) OVER w <> b.previous_date OR lag(s.attributes_hash) OVER w <> s.attributes_hash, true) AS starts
    FROM snapshots s JOIN batches b USING (batch_date)
    WINDOW w AS (PARTITION BY s.${d.key} ORDER BY s.batch_date)),
  numbered AS (SELECT *, sum(starts::int) OVER (PARTITION BY ${d.key} ORDER BY batch_date) AS run FROM marked),
  versions AS (
    SELECT DISTINCT ON (${d.key}, run) ${d.key}, ${list}, attributes_hash, batch_date AS valid_from, generation,
      last_value(next_date) OVER (PARTITION BY ${d.key}, run ORDER BY batch_date ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS valid_to
    FROM numbered ORDER BY ${d.key}, run, batch_date)
  INSERT INTO ${d.table} (client, ${d.key}, ${list}, attributes_hash, valid_from, valid_to, is_current, generation)
  SELECT $1, v.${d.key}, ${names.map((n) => `v.${n}`).join(', ')}, v.attributes_hash, COALESCE(open.valid_from, v.valid_from), v.valid_to, v.valid_to IS NULL, v.generation
  FROM versions v
  LEFT JOIN ${d.table} open ON open.client = $1 AND open.${d.key} = v.${d.key} AND v.valid_from = (SELECT day FROM since)
    AND open.valid_from <= v.valid_from AND (open.valid_to IS NULL OR open.valid_to > v.valid_from)
  ON CONFLICT (client, ${d.key}, valid_from) DO UPDATE SET valid_to = EXCLUDED.valid_to, is_current = EXCLUDED.is_current`;
}
