import { jest } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LENIENT_CLIENT, s3Event, sliceRows, startHarness, type Harness } from './harness';

const SAMPLE = 'examples/sample-batch';
const sample = (name: string) => readFileSync(join(SAMPLE, name), 'utf8');
const H = 'record_id,accout_number,transaction_reference,amount,keyword\n';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.stop());

describe('the persistence handler on real S3 events', () => {
  it('loads the sample batch, moves the originals to archive/ and takes the batch to PERSISTED', async () => {
    for (const name of readdirSync(SAMPLE).sort()) {
      expect(await h.invoke(await h.upload(`incoming/EXT_CLIENT/${name}`, sample(name)))).toEqual([{ status: 'PERSISTED', rows: 2 }]);
      expect(await h.exists(`archive/EXT_CLIENT/${name}`)).toBe(true);
      expect(await h.exists(`incoming/EXT_CLIENT/${name}`)).toBe(false);
    }
    const batch = await h.metastore.getBatch('EXT_CLIENT', '20200130');
    expect(batch?.stage).toBe('PERSISTED');
    expect(batch?.files.accounts).toMatchObject({ status: 'PERSISTED', rows: 2, bytes: Buffer.byteLength(sample('accounts_20200130.csv')), errors: [] });
    expect(batch?.files.accounts?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await sliceRows(h.db, 'accounts', 'EXT_CLIENT', '2020-01-30')).toEqual([
      { client: 'EXT_CLIENT', batch_date: '2020-01-30', record_id: 1, account_number: '12345678', cash_balance: '15000.00', currency: 'EUR', taxes_paid: '0.00', line: 2 },
      { client: 'EXT_CLIENT', batch_date: '2020-01-30', record_id: 2, account_number: '12345679', cash_balance: '-56.00', currency: 'EUR', taxes_paid: '789.56', line: 3 },
    ]);
    expect((await sliceRows(h.db, 'clients', 'EXT_CLIENT', '2020-01-30'))[0]).toMatchObject({ first_name: 'Frida', last_name: 'Müller', tax_free_allowance: '801.00' });
  });

  it('answers a duplicated event with the first outcome and changes nothing, after the first or while it still loads', async () => {
    const event = await h.upload('incoming/DUP_CO/transactions_20200131.csv', sample('transactions_20200130.csv'));
    const first = await h.invoke(event);
    expect(first).toEqual([{ status: 'PERSISTED', rows: 2 }]);
    const updated = (await h.metastore.getBatch('DUP_CO', '20200131'))?.updated_at;
    expect(await h.invoke(event)).toEqual(first);
    expect((await h.metastore.getBatch('DUP_CO', '20200131'))?.updated_at).toBe(updated);
    // Both deliveries at once: the second queues on the slice's lock, and the same bytes count once.
    const racing = await h.upload('incoming/RACE_CO/transactions_20200131.csv', sample('transactions_20200130.csv'));
    const outcomes = (await Promise.all([h.invoke(racing), h.invoke(racing)])).flat();
    expect(outcomes).toContainEqual({ status: 'PERSISTED', rows: 2 });
    expect(await sliceRows(h.db, 'transactions', 'RACE_CO', '2020-01-31')).toHaveLength(2);
    // A late event of an upload the key no longer holds reads nothing: the newer upload's own event loads it.
    const key = 'incoming/LATE_CO/transactions_20200131.csv';
    const older = await h.upload(key, `${H}1,12345678,a1,10.00,DEPOSIT\n`);
    const newer = await h.upload(key, `${H}1,12345678,a1,11.00,DEPOSIT\n2,12345678,a2,12.00,DEPOSIT\n`);
    expect(await h.invoke(older)).toEqual([{ status: 'GONE', rows: 0 }]);
    expect(await h.invoke(newer)).toEqual([{ status: 'PERSISTED', rows: 2 }]);
    expect((await h.metastore.getBatch('DUP_CO', '20200131'))?.updated_at).toBe(updated);
    expect(await sliceRows(h.db, 'transactions', 'DUP_CO', '2020-01-31')).toHaveLength(2);
  });

  it('replaces the slice with a corrected re-upload instead of adding to it', async () => {
    const key = 'incoming/REUP_CO/transactions_20200201.csv';
    await h.invoke(await h.upload(key, `${H}1,12345678,a1,10.00,DEPOSIT\n2,12345678,a2,20.00,DEPOSIT\n3,12345678,a3,30.00,FEE\n`));
    await h.invoke(await h.upload(key, `${H}1,12345678,a1,11.00,DEPOSIT\n2,12345678,a2,22.00,DEPOSIT\n`));
    const rows = await sliceRows(h.db, 'transactions', 'REUP_CO', '2020-02-01');
    expect(rows.map((r) => [r.record_id, r.amount])).toEqual([
      [1, '11.00'],
      [2, '22.00'],
    ]);
  });

  it('keeps the previous slice when a bad re-upload is refused', async () => {
    const key = 'incoming/KEEP_CO/transactions_20200201.csv';
    await h.invoke(await h.upload(key, `${H}1,12345678,a1,10.00,DEPOSIT\n`));
    expect(await h.invoke(await h.upload(key, `${H}1,12345678,a1,10.00,DEPOSIT\n2,12345678,a2,1.234,DEPOSIT\n`))).toEqual([{ status: 'REJECTED', rows: 0 }]);
    expect((await sliceRows(h.db, 'transactions', 'KEEP_CO', '2020-02-01')).map((r) => r.amount)).toEqual(['10.00']);
    const batch = await h.metastore.getBatch('KEEP_CO', '20200201');
    expect(batch?.transaction_persisted).toBe(true);
    expect(batch?.files.transactions).toMatchObject({ status: 'REJECTED', error_count: 1, errors: [{ line: 3, column: 'amount' }] });
    expect(await h.readJson('errors/KEEP_CO/transactions_20200201.csv.json')).toMatchObject({ status: 'REJECTED', error_count: 1 });
    expect(await h.exists('quarantine/KEEP_CO/transactions_20200201.csv')).toBe(true);
  });

  it('refuses a strict file whose only bad row is its last line without a line break: the bad row never reaches the tables', async () => {
    const key = 'incoming/LASTLINE_CO/transactions_20200201.csv';
    await h.invoke(await h.upload(key, `${H}1,12345678,a1,10.00,DEPOSIT\n`));
    // PostgreSQL itself would take a lower-case keyword: only the validator, at the end of the file, can refuse it.
    expect(await h.invoke(await h.upload(key, `${H}1,12345678,a1,11.00,DEPOSIT\n2,12345678,a2,20.00,deposit`))).toEqual([{ status: 'REJECTED', rows: 0 }]);
    expect((await sliceRows(h.db, 'transactions', 'LASTLINE_CO', '2020-02-01')).map((r) => [r.record_id, r.amount])).toEqual([[1, '10.00']]);
    expect((await h.metastore.getBatch('LASTLINE_CO', '20200201'))?.files.transactions).toMatchObject({ status: 'REJECTED', error_count: 1, errors: [{ line: 3, column: 'keyword' }] });
    expect(await h.exists('quarantine/LASTLINE_CO/transactions_20200201.csv')).toBe(true);
  });

  it("clears a lenient slice's rejects when a corrected re-upload has none, so the old bad rows are not reported again", async () => {
    const key = `incoming/${LENIENT_CLIENT}/transactions_20200202.csv`;
    const rejects = async () => (await h.db.query("SELECT line FROM rejects WHERE client = $1 AND batch_date = '2020-02-02' ORDER BY line", [LENIENT_CLIENT])).rows;
    await h.invoke(await h.upload(key, `${H}1,12345678,a1,10.00,DEPOSIT\n2,12345678,a2,ten,DEPOSIT\n`));
    expect(await rejects()).toEqual([{ line: 3 }]);
    expect(await h.invoke(await h.upload(key, `${H}1,12345678,a1,10.00,DEPOSIT\n2,12345678,a2,10.00,DEPOSIT\n`))).toEqual([{ status: 'PERSISTED', rows: 2 }]);
    expect(await rejects()).toEqual([]);
    expect((await h.metastore.getBatch(LENIENT_CLIENT, '20200202'))?.files.transactions).toMatchObject({ status: 'PERSISTED', rows: 2, rejected_rows: 0 });
  });

  it('loads .csv.gz files, hashing the object as stored', async () => {
    const gz = gzipSync(sample('portfolios_20200130.csv'));
    expect(await h.invoke(await h.upload('incoming/GZ_CO/portfolios_20200130.csv.gz', gz))).toEqual([{ status: 'PERSISTED', rows: 2 }]);
    expect((await h.metastore.getBatch('GZ_CO', '20200130'))?.files.portfolios).toMatchObject({ bytes: gz.length });
    expect(await h.exists('archive/GZ_CO/portfolios_20200130.csv.gz')).toBe(true);
  });

  it('decodes keys as S3 sends them (a space arrives as +)', async () => {
    const event = await h.upload('incoming/SPACE CO/accounts_20200130.csv', sample('accounts_20200130.csv'));
    expect(JSON.stringify(event)).toContain('incoming/SPACE+CO/');
    // A space is not allowed in a client id: refused with a reason, moved to quarantine under its real name.
    expect(await h.invoke(event)).toEqual([{ status: 'REJECTED', rows: 0 }]);
    expect(await h.exists('quarantine/SPACE CO/accounts_20200130.csv')).toBe(true);
    const { rejected } = await h.metastore.listClient('unknown');
    expect(rejected.find((r) => r.key === 'incoming/SPACE CO/accounts_20200130.csv')?.reason).toMatch(/invalid client id/);
  });

  it("loads a lenient client's valid rows and keeps the invalid ones in rejects", async () => {
    const body = `${H}1,12345678,a1,10.00,DEPOSIT\n2,12345678,a2,ten,DEPOSIT\n3,12345678,"a,3",30.00,FEE\n4,12345678,a4,40.00,TAX\n`;
    expect(await h.invoke(await h.upload(`incoming/${LENIENT_CLIENT}/transactions_20200130.csv`, body))).toEqual([{ status: 'PERSISTED', rows: 2 }]);
    expect((await sliceRows(h.db, 'transactions', LENIENT_CLIENT, '2020-01-30')).map((r) => r.record_id)).toEqual([1, 4]);
    const rejects = await h.db.query('SELECT line, reason, raw FROM rejects WHERE client = $1 ORDER BY line', [LENIENT_CLIENT]);
    expect(rejects.rows).toEqual([
      { line: 3, reason: expect.stringMatching(/not an amount/), raw: Buffer.from('2,12345678,a2,ten,DEPOSIT\n') },
      { line: 4, reason: expect.stringMatching(/reference/), raw: Buffer.from('3,12345678,"a,3",30.00,FEE\n') },
    ]);
    expect((await h.metastore.getBatch(LENIENT_CLIENT, '20200130'))?.files.transactions).toMatchObject({ status: 'PERSISTED', rows: 2, rejected_rows: 2, error_count: 2 });
  });

  it('fails while PostgreSQL is down, and the retry loads the file exactly once', async () => {
    const key = 'incoming/OUTAGE_CO/transactions_20200130.csv';
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i + 1},12345678,r${i},${i}.50,DEPOSIT`).join('\n');
    const event = await h.upload(key, `${H}${rows}\n`);
    // The connection drops in the middle of the COPY.
    h.proxy.downAfter(200_000);
    await expect(h.invoke(event)).rejects.toThrow();
    expect(await sliceRows(h.db, 'transactions', 'OUTAGE_CO', '2020-01-30')).toHaveLength(0);
    expect(await h.exists(key)).toBe(true);
    // Still down: the platform's retry fails too.
    await expect(h.invoke(event)).rejects.toThrow();
    h.proxy.up();
    expect(await h.invoke(event)).toEqual([{ status: 'PERSISTED', rows: 20_000 }]);
    expect(await h.invoke(event)).toEqual([{ status: 'PERSISTED', rows: 20_000 }]);
    const loaded = await h.db.query("SELECT count(*)::int AS n, sum(amount)::text AS total FROM transactions WHERE client = 'OUTAGE_CO'");
    expect(loaded.rows[0]).toEqual({ n: 20_000, total: `${(20_000 * 19_999) / 2 + 20_000 * 0.5}.00` });
  });

  it('writes its rows, bytes and outcome as one EMF metric line per invocation', async () => {
    const emitted: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      emitted.push(String(chunk));
      return true;
    });
    const metricLines = () =>
      emitted.filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> } });
    const body = `${H}1,12345678,m1,10.00,DEPOSIT\n2,12345678,m2,20.00,DEPOSIT\n3,12345678,m3,30.00,FEE\n`;
    try {
      await h.invoke(await h.upload('incoming/METRIC_CO/transactions_20200301.csv', body));
      const loaded = metricLines();
      expect(loaded).toHaveLength(1);
      expect(loaded[0]!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'DataHarvest', Dimensions: [['service']] });
      expect(loaded[0]).toMatchObject({ FilesPersisted: 1, RowsLoaded: 3, RowsRejected: 0, BytesLoaded: Buffer.byteLength(body) });
      expect(JSON.stringify(loaded[0])).not.toContain('METRIC_CO');
      emitted.length = 0;
      await h.invoke(await h.upload('incoming/METRIC_CO/transactions_20200302.csv', `${H}1,12345678,m1,1.234,DEPOSIT\n`));
      expect(metricLines()).toEqual([expect.objectContaining({ FilesRejected: 1, RowsLoaded: 0 })]);
    } finally {
      write.mockRestore();
    }
  });

  it('refuses an event that is not an S3 ObjectCreated notification', async () => {
    await expect(h.invoke({ Records: [{ eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'b' }, object: { key: 'k' } } }] })).rejects.toThrow();
    await expect(h.invoke(s3Event('', 'x'))).rejects.toThrow();
  });
});
