import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { columnsDdl, FILE_SCHEMAS, moneySumSql } from '@dataharvest/events/file-schemas';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import { applyDdl } from '@dataharvest/shared/pg';
import { generateFile } from '../../../local/src/generate/index';
import { loadRecords, loadSlice } from '@dataharvest/shared/load/slice-loader';
import { partitionName, replaceSlice, SliceTable } from '@dataharvest/shared/load/slice-table';
import { validFile, type CsvFile } from '../../../shared/test/load/csv-files';
import { sliceRows, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  const db = await h.db.connect();
  await applyDdl(db, BASE_TABLES_DDL);
  db.release();
});
afterAll(() => h?.stop());

/** What PostgreSQL gives back for a value as the file wrote it. */
function loadedAs(kind: string, v: string): unknown {
  if (kind === 'record_id') return Number(v);
  if (kind === 'uuid') return v.toLowerCase();
  if (kind !== 'money') return v;
  const [int, dec = ''] = v.replace('-', '').split('.');
  const digits = `${BigInt(int!)}.${dec.padEnd(2, '0')}`;
  return v.startsWith('-') && /[1-9]/.test(v) ? `-${digits}` : digits;
}

const expectedRows = (file: CsvFile) =>
  file.rows.map(({ values }) => Object.fromEntries(FILE_SCHEMAS[file.type].map((c) => [c.name, loadedAs(c.kind, values[c.name]!)]))).sort((a, b) => (a.record_id as number) - (b.record_id as number));

const chunked = (bytes: Buffer, cuts: number[]) => {
  const at = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  return Readable.from([0, ...at].map((from, i) => bytes.subarray(from, at[i] ?? bytes.length)));
};

async function withClient<T>(fn: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  const db = await h.db.connect();
  try {
    return await fn(db);
  } finally {
    db.release();
  }
}

describe('loadSlice against PostgreSQL', () => {
  it('round-trips every valid file: what PostgreSQL holds is what the file says, however it was chunked', async () => {
    const slice = { client: 'ROUNDTRIP', batchDate: '20200130' };
    await fc.assert(
      fc.asyncProperty(validFile, fc.array(fc.nat(), { maxLength: 8 }), async (file, cuts) => {
        const bytes = Buffer.from(file.text);
        const result = await withClient((db) =>
          loadSlice(
            db,
            { ...slice, type: file.type },
            chunked(
              bytes,
              cuts.map((c) => c % bytes.length),
            ),
          ),
        );
        expect(result).toMatchObject({ loaded: true, rows: file.rows.length, errorCount: 0, bytes: bytes.length });
        const rows = (await sliceRows(h.db, file.type, 'ROUNDTRIP', '2020-01-30')).map(({ client, batch_date, line, ...rest }) => rest);
        expect(rows).toEqual(expectedRows(file));
        // The money sum the validator added up is PostgreSQL's own over the loaded rows.
        expect(result.moneySum).toBe((await h.db.query(`${moneySumSql(file.type)} WHERE client = 'ROUNDTRIP'`)).rows[0].money_sum);
      }),
      { numRuns: 40 },
    );
  });

  it("loads every valid file as PostgreSQL's own CSV COPY of it does, value for value", async () => {
    await fc.assert(
      fc.asyncProperty(validFile, async (file) => {
        const bytes = Buffer.from(file.text);
        expect(await withClient((db) => loadSlice(db, { client: 'OWN_COPY', batchDate: '20200130', type: file.type }, Readable.from([bytes])))).toMatchObject({ loaded: true });
        const columns = FILE_SCHEMAS[file.type].map((c) => `${c.name}::text`).join(', ');
        const ownCopy = await withClient(async (db) => {
          await db.query('BEGIN');
          try {
            await db.query(`CREATE TEMP TABLE own_copy (${columnsDdl(file.type, { client: 'OWN_COPY', isoDate: '2020-01-30' })})`);
            const header = file.order.map((i) => FILE_SCHEMAS[file.type][i]!.name).join(', ');
            await pipeline(Readable.from([bytes]), db.query(copyFrom(`COPY own_copy (${header}) FROM STDIN WITH (FORMAT csv, HEADER true)`)));
            return (await db.query(`SELECT ${columns} FROM own_copy ORDER BY record_id`)).rows;
          } finally {
            await db.query('ROLLBACK');
          }
        });
        const loaded = await h.db.query(`SELECT ${columns} FROM ${file.type} WHERE client = 'OWN_COPY' ORDER BY record_id`);
        expect(loaded.rows).toEqual(ownCopy);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a file with a row the database refuses, naming the row, and leaves the connection usable', async () => {
    await withClient(async (db) => {
      const target = new SliceTable(db, { type: 'transactions', client: 'REFUSED', batchDate: '20200130' });
      // A constraint the validator knows nothing of stands in for a value rule the two might disagree on.
      const begin = target.begin.bind(target);
      target.begin = async () => {
        await begin();
        await db.query(`ALTER TABLE ${target.staging} ADD CHECK (amount < 100)`);
      };
      const bytes = Buffer.from('record_id,account_number,transaction_reference,amount,keyword\n1,1,a,5,X\n2,1,b,500,X\n');
      expect(await loadRecords(db, 'transactions', target, Readable.from([bytes]))).toMatchObject({
        loaded: false,
        errors: [{ line: 1, reason: expect.stringMatching(/^the database refused loaded row 2: new row .* violates check constraint/) }],
      });
      expect((await db.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });
    expect(await sliceRows(h.db, 'transactions', 'REFUSED', '2020-01-30')).toEqual([]);
  });

  it('keeps the file line each row starts on: after multi-line values and left-out rows, however chunked', async () => {
    const REF = '9e40659b-8b9f-4fc4-814b-5a7b5a23b64d';
    const row = (id: number, name: string, allowance = '801') => `${id},${name},Maier,${REF},${allowance}`;
    const bytes = Buffer.from(
      `${['record_id,first_name,last_name,client_reference,tax_free_allowance', row(1, '"Anna\nMaria"'), row(2, 'Bob', 'x'), row(3, 'Carl'), '', row(4, '"Dora\nD.\nDee"'), row(5, 'Eve')].join('\n')}\n`,
    );
    for (const cut of [0, 17, 60, 120]) {
      const result = await withClient((db) => loadSlice(db, { client: 'LINES', batchDate: '20200130', type: 'clients' }, chunked(bytes, [cut]), { lenient: true }));
      expect(result).toMatchObject({ loaded: true, rows: 4, rejectedRows: 1 });
      const lines = (await sliceRows(h.db, 'clients', 'LINES', '2020-01-30')).map((r) => [r.record_id, r.line]);
      expect([cut, lines]).toEqual([
        cut,
        [
          [1, 2],
          [3, 5],
          [4, 7],
          [5, 10],
        ],
      ]);
    }
  });

  it('creates the base tables safely from many sessions at once', async () => {
    // A schema of its own, so that the sessions really create the tables instead of finding them there.
    await h.db.query('DROP SCHEMA IF EXISTS ddl_race CASCADE; CREATE SCHEMA ddl_race');
    try {
      const sessions = Array.from({ length: 4 }, () =>
        withClient(async (db) => {
          await db.query('SET search_path TO ddl_race');
          try {
            await applyDdl(db, BASE_TABLES_DDL);
          } finally {
            await db.query('RESET search_path');
          }
        }),
      );
      expect((await Promise.allSettled(sessions)).map((s) => (s.status === 'rejected' ? String(s.reason) : s.status))).toEqual(Array(4).fill('fulfilled'));
      const tables = await h.db.query("SELECT relname, relkind FROM pg_class WHERE relnamespace = 'ddl_race'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1");
      expect(tables.rows).toEqual([
        { relname: 'accounts', relkind: 'p' },
        { relname: 'chunk_loads', relkind: 'r' },
        { relname: 'chunk_rejects', relkind: 'r' },
        { relname: 'chunk_uploads', relkind: 'r' },
        { relname: 'clients', relkind: 'p' },
        { relname: 'portfolios', relkind: 'p' },
        { relname: 'rejects', relkind: 'r' },
        { relname: 'transactions', relkind: 'p' },
      ]);
    } finally {
      await h.db.query('DROP SCHEMA ddl_race CASCADE');
    }
  });

  it("converts an older schema's text raw column of rejected rows to bytes, once, keeping what it holds", async () => {
    await h.db.query('DROP SCHEMA IF EXISTS raw_text CASCADE; CREATE SCHEMA raw_text');
    try {
      await withClient(async (db) => {
        await db.query('SET search_path TO raw_text');
        try {
          // The schema as the previous release made it.
          await applyDdl(
            db,
            BASE_TABLES_DDL.filter((ddl) => !ddl.startsWith('DO')).map((ddl) => ddl.replace('raw bytea', 'raw text')),
          );
          await db.query("INSERT INTO rejects VALUES ('C', '2020-01-30', 'clients', 2, 'r', '1,Zoë,\"x\"\n')");
          await applyDdl(db, BASE_TABLES_DDL);
          await applyDdl(db, BASE_TABLES_DDL);
          const types = await db.query("SELECT table_name, data_type FROM information_schema.columns WHERE table_schema = 'raw_text' AND column_name = 'raw' ORDER BY 1");
          expect(types.rows).toEqual([
            { table_name: 'chunk_rejects', data_type: 'bytea' },
            { table_name: 'rejects', data_type: 'bytea' },
          ]);
          expect((await db.query('SELECT raw FROM rejects')).rows).toEqual([{ raw: Buffer.from('1,Zoë,"x"\n') }]);
        } finally {
          await db.query('RESET search_path');
        }
      });
    } finally {
      await h.db.query('DROP SCHEMA raw_text CASCADE');
    }
  });

  it('swaps slices of one table from concurrent loads without deadlock, each replacing only its own', async () => {
    const load = (client: string, seed: number) =>
      withClient((db) => loadSlice(db, { type: 'transactions', client, batchDate: '20200130' }, generateFile({ type: 'transactions', rows: 20_000, seed })));
    const clients = ['CONC_A', 'CONC_B', 'CONC_C', 'CONC_D'];
    await Promise.all(clients.map((c, i) => load(c, i + 1)));
    // Again, so every load now also drops a partition it replaces.
    const results = await Promise.all(clients.map((c, i) => load(c, i + 10)));
    expect(results.map((r) => r.rows)).toEqual([20_000, 20_000, 20_000, 20_000]);
    const counts = await h.db.query("SELECT client, count(*)::int AS n FROM transactions WHERE client LIKE 'CONC_%' GROUP BY client ORDER BY client");
    expect(counts.rows).toEqual(clients.map((client) => ({ client, n: 20_000 })));
  });

  it('serialises two loads of the same slice: the slice ends up as one file, never a mix', async () => {
    const file = (rows: number, seed: number) => generateFile({ type: 'accounts', rows, seed });
    const slice = { type: 'accounts' as const, client: 'SAME_SLICE', batchDate: '20200130' };
    await Promise.all([withClient((db) => loadSlice(db, slice, file(5_000, 1))), withClient((db) => loadSlice(db, slice, file(7_000, 2)))]);
    const n = (await h.db.query("SELECT count(*)::int AS n FROM accounts WHERE client = 'SAME_SLICE'")).rows[0].n;
    expect([5_000, 7_000]).toContain(n);
  });

  it('keeps the partition when the same bytes load again, instead of swapping in identical rows under the table lock', async () => {
    const slice = { client: 'AGAIN', batchDate: '20200130', type: 'transactions' as const };
    const oid = async () => (await h.db.query<{ oid: string }>('SELECT to_regclass($1)::oid AS oid', [partitionName(slice)])).rows[0]!.oid;
    const file = (amount: number) => Buffer.from(`record_id,accout_number,transaction_reference,amount,keyword\n1,12,ab,${amount},DEPOSIT\n`);
    const load = (bytes: Buffer) => withClient((db) => loadSlice(db, slice, Readable.from([bytes])));
    expect(await load(file(5))).toMatchObject({ loaded: true, rows: 1 });
    const first = await oid();
    // A duplicate delivery: the same partition, so the base table's exclusive lock was never taken.
    expect(await load(file(5))).toMatchObject({ loaded: true, rows: 1 });
    expect(await oid()).toBe(first);
    expect(await load(file(6))).toMatchObject({ loaded: true, rows: 1 });
    expect(await oid()).not.toBe(first);
    expect((await sliceRows(h.db, 'transactions', 'AGAIN', '2020-01-30')).map((r) => r.amount)).toEqual(['6.00']);
  });

  it('attaches a first slice only once the base table has no reader, as a swap does', async () => {
    // A session listing a table's partitions while an ATTACH committed kept a list without the new slice, for good
    // (docs/testing.md, "Chaos suite"): no reader may be at it while a slice attaches. A reader in a transaction
    // holds the table; the attach waits for it (here: gives up at the lock timeout).
    const reader = await h.db.connect();
    try {
      await reader.query('BEGIN');
      await reader.query("SELECT count(*) FROM portfolios WHERE client = 'SOMEONE'");
      const attach = withClient(async (db) => {
        await db.query('BEGIN');
        try {
          await db.query("SET LOCAL lock_timeout = '300ms'");
          await db.query(`CREATE TABLE attach_probe (${columnsDdl('portfolios', { client: 'ATTACH_CO', isoDate: '2020-01-30' })})`);
          await replaceSlice(db, { type: 'portfolios', client: 'ATTACH_CO', batchDate: '20200130' }, 'attach_probe');
        } finally {
          await db.query('ROLLBACK');
        }
      });
      await expect(attach).rejects.toMatchObject({ code: '55P03' });
    } finally {
      await reader.query('ROLLBACK');
      reader.release();
    }
  });

  it('leaves the connection usable after refusing a file half-way through its COPY', async () => {
    await withClient(async (db) => {
      const big = generateFile({ type: 'transactions', rows: 50_000, seed: 3 });
      const broken = Readable.from(
        (async function* () {
          for await (const chunk of big) yield chunk as Buffer;
          yield Buffer.from('50001,1,a,not-money,X\n');
        })(),
      );
      const result = await loadSlice(db, { type: 'transactions', client: 'HALFWAY', batchDate: '20200130' }, broken);
      expect(result).toMatchObject({ loaded: false, errorCount: 1, errors: [{ line: 50_002, column: 'amount' }] });
      expect((await db.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });
    expect(await sliceRows(h.db, 'transactions', 'HALFWAY', '2020-01-30')).toEqual([]);
  });
});
