import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { LENIENT_CLIENT, s3Event, sliceRows, startHarness, type Harness } from '../services/persistence/test/harness';

/**
 * Malformed uploads, each through the persistence handler on a real S3 event: every one is refused with the
 * expected reason, leaves no rows behind, is quarantined beside its error report, and the good file that follows
 * for the same slice still loads.
 */
const T = 'record_id,accout_number,transaction_reference,amount,keyword';
const A = 'record_id,accout_number,cash_balance,currency,taxes_paid';
const C = 'record_id,first_name,last_name,client_reference,tax_free_allowance';
const GOOD: Record<string, string> = {
  transactions: `${T}\n1,12345678,14e56786,5000,DEPOSIT\n2,12345679,dfeb5fe13cd4,-789.56,TAX\n`,
  accounts: `${A}\n1,12345678,15000.00,EUR,0.00\n2,12345679,-56.00,EUR,789.56\n`,
  clients: `${C}\n1,Frida,Müller,9e40659b-8b9f-4fc4-814b-5a7b5a23b64d,801\n2,Fritz,Maier,f4a0cc2c-d0b4-4f14-b202-c8a5e45e90e7,0\n`,
};

/** Valid-looking rows, the same one over and over: gzip shrinks them over three hundred times. */
function gzipBomb(): Buffer {
  const row = '1,12345678,14e56786,5000,DEPOSIT\n';
  const block = Buffer.from(row.repeat(Math.floor(65536 / row.length)));
  return gzipSync(Buffer.concat([Buffer.from(`${T}\n`), ...Array.from({ length: 4096 }, () => block)]), { level: 9 });
}

interface ContentCase {
  name: string;
  type: keyof typeof GOOD;
  body: string | Buffer;
  gzip?: boolean;
  reason: RegExp;
  line?: number;
  column?: string;
}

const contentCases: ContentCase[] = [
  { name: 'an empty file', type: 'transactions', body: '', reason: /the file is empty/, line: 1 },
  { name: 'a header without rows', type: 'transactions', body: `${T}\n`, reason: /header but no rows/, line: 2 },
  {
    name: 'invalid UTF-8',
    type: 'clients',
    body: Buffer.concat([Buffer.from(`${C}\n1,Fr`), Buffer.from([0xe9]), Buffer.from('da,M,9e40659b-8b9f-4fc4-814b-5a7b5a23b64d,801\n')]),
    reason: /invalid UTF-8/,
    line: 2,
    column: 'first_name',
  },
  {
    name: 'binary content',
    type: 'transactions',
    body: Buffer.concat([Buffer.from(`${T}\n`), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d])]),
    reason: /UTF-8/,
    line: 2,
    column: 'record_id',
  },
  {
    name: 'an unterminated quote',
    type: 'transactions',
    body: `${T}\n1,12345678,"14e56786,5000,DEPOSIT\n2,12345679,x,1,TAX\n`,
    reason: /unterminated quoted value/,
    line: 2,
    column: 'transaction_reference',
  },
  { name: 'too few values', type: 'transactions', body: `${T}\n1,12345678,14e56786,5000\n`, reason: /expected 5 values, found 4/, line: 2 },
  { name: 'too many values', type: 'transactions', body: `${T}\n1,12345678,14e56786,5000,DEPOSIT,extra\n`, reason: /expected 5 values, found 6/, line: 2 },
  { name: 'an unknown column', type: 'transactions', body: `${T},comment\n1,12345678,14e56786,5000,DEPOSIT,hi\n`, reason: /unknown column 6 \(7 characters\)/, line: 1, column: 'column 6' },
  {
    name: 'an unknown snake_case column',
    type: 'transactions',
    body: `${T},booking_date\n1,12345678,14e56786,5000,DEPOSIT,d\n`,
    reason: /unknown column "booking_date"/,
    line: 1,
    column: 'booking_date',
  },
  {
    name: 'a header of 100 unknown 9,000-byte names',
    type: 'transactions',
    body: `${Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(9000, 'x')).join(',')}\n1\n`,
    reason: /^unknown column 1 \(9000 characters\)/,
    line: 1,
    column: 'column 1',
  },
  { name: 'a missing column', type: 'transactions', body: 'record_id,accout_number,amount,keyword\n1,12345678,5000,DEPOSIT\n', reason: /missing column transaction_reference/, line: 1 },
  { name: 'a duplicate column', type: 'transactions', body: `${T},amount\n1,12345678,14e56786,5000,DEPOSIT,1\n`, reason: /column amount appears twice/, line: 1, column: 'amount' },
  { name: 'an amount with three decimals', type: 'transactions', body: `${T}\n1,12345678,14e56786,50.001,DEPOSIT\n`, reason: /at most 2 decimals/, line: 2, column: 'amount' },
  { name: 'an amount in scientific notation', type: 'transactions', body: `${T}\n1,12345678,14e56786,5e3,DEPOSIT\n`, reason: /not an amount/, line: 2, column: 'amount' },
  { name: 'an unknown currency', type: 'accounts', body: `${A}\n1,12345678,15000.00,EUX,0.00\n`, reason: /ISO 4217/, line: 2, column: 'currency' },
  { name: 'a malformed UUID', type: 'clients', body: `${C}\n1,Frida,Müller,9e40659b-8b9f-4fc4-814b,801\n`, reason: /not a UUID/, line: 2, column: 'client_reference' },
  { name: 'letters in an account number', type: 'accounts', body: `${A}\n1,1234X678,15000.00,EUR,0.00\n`, reason: /account number/, line: 2, column: 'accout_number' },
  { name: 'a duplicate record id', type: 'transactions', body: `${T}\n1,12345678,a,1,DEPOSIT\n1,12345678,b,2,DEPOSIT\n`, reason: /duplicate record_id/, line: 3, column: 'record_id' },
  { name: 'a record id of zero', type: 'transactions', body: `${T}\n0,12345678,a,1,DEPOSIT\n`, reason: /record_id must be a whole number/, line: 2, column: 'record_id' },
  { name: 'mixed line endings', type: 'transactions', body: `${T}\r\n1,12345678,a,1,DEPOSIT\n`, reason: /mixed line endings/, line: 2 },
  { name: 'an empty line between rows', type: 'transactions', body: `${T}\n1,12345678,a,1,DEPOSIT\n\n2,12345678,b,1,DEPOSIT\n`, reason: /empty line/, line: 3 },
  { name: 'a quote inside an unquoted value', type: 'transactions', body: `${T}\n1,12345678,a"b,1,DEPOSIT\n`, reason: /quote inside an unquoted value/, line: 2, column: 'transaction_reference' },
  { name: 'a .csv.gz that is not gzip', type: 'transactions', body: `${T}\n1,12345678,a,1,DEPOSIT\n`, gzip: true, reason: /not a valid gzip file/, line: 1 },
  { name: 'a gzip bomb (256 MiB of one repeated row, gzipped under 1 MiB)', type: 'transactions', body: gzipBomb(), gzip: true, reason: /inflates more than 100 times its size/, line: 1 },
  { name: 'a lower-case keyword', type: 'transactions', body: `${T}\n1,12345678,a,1,deposit\n`, reason: /capital letters/, line: 2, column: 'keyword' },
];

/** `outside`: a key outside incoming/, which persistence may neither read nor delete: reported, left in place. */
const keyCases: Array<{ name: string; key: string; client: string; reason: RegExp; outside?: boolean }> = [
  { name: 'an unknown file type', key: 'incoming/KEY_CO/trades_20200130.csv', client: 'KEY_CO', reason: /unknown file type "trades"/ },
  { name: 'an impossible date', key: 'incoming/KEY_CO/transactions_20200230.csv', client: 'KEY_CO', reason: /impossible batch date 20200230/ },
  { name: 'no client', key: 'incoming/transactions_20200130.csv', client: 'unknown', reason: /incoming\/<client>\// },
  { name: 'a path trick', key: 'incoming/../archive/KEY_CO/transactions_20200130.csv', client: 'unknown', reason: /incoming\/<client>\// },
  { name: 'a dot client', key: 'incoming/../transactions_20200130.csv', client: 'unknown', reason: /invalid client id/ },
  { name: 'a wrong extension', key: 'incoming/KEY_CO/transactions_20200130.txt', client: 'KEY_CO', reason: /is not <type>_<YYYYMMDD>\.csv/ },
  { name: 'an upper-case type', key: 'incoming/KEY_CO/Transactions_20200130.csv', client: 'KEY_CO', reason: /is not <type>_<YYYYMMDD>\.csv/ },
  { name: 'a sub-folder under the client', key: 'incoming/KEY_CO/sub/transactions_20200130.csv', client: 'unknown', reason: /incoming\/<client>\// },
  { name: 'a batch date past 2100', key: 'incoming/KEY_CO/transactions_99991231.csv', client: 'KEY_CO', reason: /batch date 99991231 is outside 1900-01-01\.\.2100-12-31/ },
  { name: 'an upper-case suffix', key: 'incoming/KEY_CO/transactions_20200130.CSV', client: 'KEY_CO', reason: /is not <type>_<YYYYMMDD>\.csv/ },
  { name: 'a trailing space', key: 'incoming/KEY_CO/transactions_20200130.csv ', client: 'KEY_CO', reason: /"transactions_20200130\.csv " is not/ },
  { name: 'a case variant of incoming/', key: 'Incoming/KEY_CO/transactions_20200130.csv', client: 'KEY_CO', reason: /key must start with incoming\//, outside: true },
  { name: 'another folder', key: 'other/KEY_CO/transactions_20200130.csv', client: 'KEY_CO', reason: /key must start with incoming\//, outside: true },
];

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.stop());

describe('bad input: malformed files', () => {
  it.each(contentCases.map((c, i) => [c.name, i] as const))('refuses %s, then loads the good file that follows', async (_, i) => {
    const c = contentCases[i]!;
    const client = `BAD_${i}`;
    const key = `incoming/${client}/${c.type}_20200130.csv${c.gzip ? '.gz' : ''}`;
    expect(await h.invoke(await h.upload(key, c.body))).toEqual([{ status: 'REJECTED', rows: 0 }]);

    const file = (await h.metastore.getBatch(client, '20200130'))?.files[c.type];
    expect(file).toMatchObject({ status: 'REJECTED', rows: 0, key });
    expect(file!.error_count).toBeGreaterThanOrEqual(1);
    expect(file!.errors[0]).toEqual({ line: c.line, reason: expect.stringMatching(c.reason), ...(c.column ? { column: c.column } : {}) });
    expect(await sliceRows(h.db, c.type, client, '2020-01-30')).toEqual([]);
    expect(await h.exists(key)).toBe(false);
    expect(await h.exists(`quarantine/${client}/${c.type}_20200130.csv${c.gzip ? '.gz' : ''}`)).toBe(true);
    const report = (await h.readJson(`errors/${client}/${c.type}_20200130.csv${c.gzip ? '.gz' : ''}.json`)) as { status: string; error_count: number; errors: unknown[] };
    expect(report).toMatchObject({ status: 'REJECTED', error_count: file!.error_count, errors: file!.errors });

    const good = c.gzip ? gzipSync(GOOD[c.type]!) : GOOD[c.type]!;
    expect(await h.invoke(await h.upload(key, good))).toEqual([{ status: 'PERSISTED', rows: 2 }]);
    expect(await sliceRows(h.db, c.type, client, '2020-01-30')).toHaveLength(2);
    expect((await h.metastore.getBatch(client, '20200130'))?.files[c.type]?.status).toBe('PERSISTED');
  });
});

describe('bad input: privacy of reports', () => {
  it("records a headerless clients file without echoing the first person's values", async () => {
    const key = 'incoming/PRIV_CO/clients_20200130.csv';
    const body = GOOD.clients!.slice(GOOD.clients!.indexOf('\n') + 1);
    expect(await h.invoke(await h.upload(key, body))).toEqual([{ status: 'REJECTED', rows: 0 }]);
    const item = JSON.stringify(await h.metastore.getBatch('PRIV_CO', '20200130'));
    const report = JSON.stringify(await h.readJson('errors/PRIV_CO/clients_20200130.csv.json'));
    expect(report).toContain('unknown column 2 (5 characters)');
    for (const value of ['Frida', 'Müller', '9e40659b-8b9f-4fc4-814b-5a7b5a23b64d']) {
      expect(item).not.toContain(value);
      expect(report).not.toContain(value);
    }
  });
});

describe("bad input: a lenient client's refused rows", () => {
  it('keeps every byte of a refused row (a NUL, broken UTF-8, a cut character) and loads the valid rows', async () => {
    const key = `incoming/${LENIENT_CLIENT}/transactions_20200301.csv`;
    const nul = Buffer.from('2,12,a\u0000b,5,TAX\n');
    const broken = Buffer.concat([Buffer.from('3,12,c'), Buffer.from([0xff, 0xc2, 0x85]), Buffer.from(',5,TAX\n')]);
    // Kept to its first KiB, which ends inside a two-byte character.
    const long = Buffer.from(`4,12,${'ü'.repeat(600)},5,TAX\n`);
    const body = Buffer.concat([Buffer.from(`${T}\n1,12,ab,5,TAX\n`), nul, broken, long]);
    expect(await h.invoke(await h.upload(key, body))).toEqual([{ status: 'PERSISTED', rows: 1 }]);
    expect((await sliceRows(h.db, 'transactions', LENIENT_CLIENT, '2020-03-01')).map((r) => r.record_id)).toEqual([1]);
    const rejects = await h.db.query("SELECT line, reason, raw FROM rejects WHERE client = $1 AND batch_date = '2020-03-01' ORDER BY line", [LENIENT_CLIENT]);
    expect(rejects.rows).toEqual([
      { line: 3, reason: 'binary content (NUL byte)', raw: nul },
      { line: 4, reason: 'invalid UTF-8', raw: broken },
      { line: 5, reason: expect.stringMatching(/reference/), raw: long.subarray(0, 1024) },
    ]);
  });
});

describe('bad input: object keys', () => {
  it.each(keyCases.map((c, i) => [c.name, i] as const))('refuses %s and records why', async (_, i) => {
    const c = keyCases[i]!;
    // Path tricks are sent as S3 would report them; the other keys are real uploads.
    const event = c.key.includes('..') ? s3Event(c.key, 'etag') : await h.upload(c.key, GOOD.transactions!);
    expect(await h.invoke(event)).toEqual([{ status: 'REJECTED', rows: 0 }]);
    const { rejected } = await h.metastore.listClient(c.client);
    expect(rejected.find((r) => r.key === c.key)?.reason).toMatch(c.reason);
    if (c.outside) {
      expect(await h.exists(c.key)).toBe(true);
      expect(await h.readJson(`errors/${c.key}.json`)).toMatchObject({ key: c.key, status: 'REJECTED', reason: expect.stringMatching(c.reason) });
    } else if (!c.key.includes('..')) {
      expect(await h.exists(c.key)).toBe(false);
      expect(await h.exists(`quarantine/${c.key.slice('incoming/'.length)}`)).toBe(true);
    }
    // Nothing was loaded anywhere for it.
    const loaded = await h.db.query("SELECT count(*)::int AS n FROM transactions WHERE client IN ('KEY_CO', 'unknown')");
    expect(loaded.rows[0].n).toBe(0);
  });

  it('records a 300-character client id as an unknown client, its id cut in the reason', async () => {
    const key = `incoming/${'L'.repeat(300)}/transactions_20200130.csv`;
    // As S3 would report it: the local cloud's file-backed store cannot hold a 300-byte folder name.
    expect(await h.invoke(s3Event(key, 'etag'))).toEqual([{ status: 'REJECTED', rows: 0 }]);
    const refused = (await h.metastore.listClient('unknown')).rejected.find((r) => r.key === key);
    expect(refused?.reason).toBe(`invalid client id "${'L'.repeat(64)}…" (300 characters): letters, digits, _ and - only`);
    // Too long a folder name for file-backed stores: its report is named by the key's SHA-256, and names the key.
    const hash = createHash('sha256').update(key).digest('hex');
    expect(await h.readJson(`errors/_unsafe-keys/${hash}.json`)).toMatchObject({ key, status: 'REJECTED', reason: refused?.reason });
  });

  it('ignores, without a record, the objects persistence writes itself', async () => {
    const keys = ['archive/IGN_CO/transactions_20200130.csv', 'quarantine/IGN_CO/x.csv', 'errors/IGN_CO/x.csv.json', 'staging/IGN_CO/part-1'];
    for (const key of keys) expect(await h.invoke(await h.upload(key, GOOD.transactions!))).toEqual([{ status: 'IGNORED', rows: 0 }]);
    for (const key of keys) expect(await h.exists(key)).toBe(true);
    expect((await h.metastore.listClient('IGN_CO')).rejected).toEqual([]);
  });

  it('still loads a good file after all of them', async () => {
    expect(await h.invoke(await h.upload('incoming/KEY_CO/transactions_20200130.csv', GOOD.transactions!))).toEqual([{ status: 'PERSISTED', rows: 2 }]);
    expect(await sliceRows(h.db, 'transactions', 'KEY_CO', '2020-01-30')).toHaveLength(2);
  });
});
