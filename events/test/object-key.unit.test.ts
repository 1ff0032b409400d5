import { INCOMING_PREFIX, isCalendarDate, isOwnObject, OWN_PREFIXES, objectKey, parseObjectKey } from '../src/object-key';

describe('isCalendarDate', () => {
  it('accepts real days, leap days included', () => {
    for (const day of ['19000101', '20240229', '20000229', '20231231', '20230131']) expect(isCalendarDate(day)).toBe(true);
  });

  it('refuses days the calendar does not have, and years before 1900', () => {
    for (const day of ['20230229', '19000229', '20231301', '20230001', '20230100', '20230431', '20230132', '18991231']) expect(isCalendarDate(day)).toBe(false);
  });
});

describe('parseObjectKey', () => {
  it('reads client, type, batch date and compression from incoming/<client>/<type>_<YYYYMMDD>.csv[.gz]', () => {
    expect(parseObjectKey('incoming/EXT_CLIENT/accounts_20240131.csv')).toEqual({
      ok: true,
      client: 'EXT_CLIENT',
      type: 'accounts',
      batchDate: '20240131',
      gzip: false,
      fileName: 'accounts_20240131.csv',
    });
    expect(parseObjectKey('incoming/a-1/transactions_20240229.csv.gz')).toEqual({
      ok: true,
      client: 'a-1',
      type: 'transactions',
      batchDate: '20240229',
      gzip: true,
      fileName: 'transactions_20240229.csv.gz',
    });
  });

  it('accepts client ids of 1 to 64 letters, digits, _ and -, starting with a letter or digit', () => {
    for (const client of ['a', '9', 'A_b-c', 'x'.repeat(64)]) expect(parseObjectKey(`incoming/${client}/clients_20240101.csv`)).toMatchObject({ ok: true, client });
    for (const client of ['_a', '-a', 'a.b', 'a b', `${'x'.repeat(63)}.`, '']) {
      expect(parseObjectKey(`incoming/${client}/clients_20240101.csv`)).toEqual({
        ok: false,
        client: 'unknown',
        fileName: 'clients_20240101.csv',
        reason: `invalid client id "${client}": letters, digits, _ and - only`,
      });
    }
  });

  it('quotes at most 64 characters of a long client id or file name, with its length', () => {
    expect(parseObjectKey(`incoming/${'y'.repeat(300)}./clients_20240101.csv`)).toMatchObject({
      ok: false,
      client: 'unknown',
      reason: `invalid client id "${'y'.repeat(64)}…" (301 characters): letters, digits, _ and - only`,
    });
    expect(parseObjectKey(`incoming/${'x'.repeat(65)}/clients_20240101.csv`)).toMatchObject({ ok: false, client: 'unknown', reason: expect.stringContaining('(65 characters)') });
    expect(parseObjectKey(`incoming/c/${'z'.repeat(100)}`)).toMatchObject({ reason: `file name "${'z'.repeat(64)}…" (100 characters) is not <type>_<YYYYMMDD>.csv` });
  });

  it('refuses batch dates outside 1900-01-01..2100-12-31', () => {
    for (const day of ['21010101', '99991231']) expect(parseObjectKey(`incoming/c/accounts_${day}.csv`)).toMatchObject({ ok: false, reason: `batch date ${day} is outside 1900-01-01..2100-12-31` });
    for (const day of ['19000101', '21001231']) expect(parseObjectKey(`incoming/c/accounts_${day}.csv`)).toMatchObject({ ok: true, batchDate: day });
  });

  it('refuses case variants of incoming/ and of the suffix, other folders and a trailing space', () => {
    expect(parseObjectKey('Incoming/c/accounts_20240101.csv')).toMatchObject({ ok: false, reason: 'key must start with incoming/' });
    expect(parseObjectKey('other/c/accounts_20240101.csv')).toMatchObject({ ok: false, reason: 'key must start with incoming/' });
    expect(parseObjectKey('incoming/c/accounts_20240101.csv ')).toMatchObject({ ok: false, reason: 'file name "accounts_20240101.csv " is not <type>_<YYYYMMDD>.csv' });
  });

  it("tells persistence's own folders from everything else", () => {
    expect(OWN_PREFIXES).toEqual(['archive/', 'quarantine/', 'errors/', 'staging/']);
    for (const key of ['archive/c/a.csv', 'quarantine/x', 'errors/c/a.csv.json', 'staging/c/1']) expect(isOwnObject(key)).toBe(true);
    for (const key of ['incoming/c/a.csv', 'Archive/c/a.csv', 'archive', 'other/archive/x', 'errors']) expect(isOwnObject(key)).toBe(false);
  });

  it('refuses a key outside incoming/, naming the prefix', () => {
    expect(parseObjectKey('archive/c/accounts_20240101.csv')).toEqual({ ok: false, client: 'c', fileName: 'accounts_20240101.csv', reason: 'key must start with incoming/' });
    expect(parseObjectKey('accounts_20240101.csv')).toEqual({ ok: false, client: 'unknown', fileName: 'accounts_20240101.csv', reason: 'key must start with incoming/' });
  });

  it('refuses a key that is not exactly three levels deep', () => {
    const reason = 'key must be incoming/<client>/<type>_<YYYYMMDD>.csv';
    expect(parseObjectKey('incoming/accounts_20240101.csv')).toEqual({ ok: false, client: 'unknown', fileName: 'accounts_20240101.csv', reason });
    expect(parseObjectKey('incoming/c/sub/accounts_20240101.csv')).toEqual({ ok: false, client: 'unknown', fileName: 'accounts_20240101.csv', reason });
  });

  it('refuses a file name not of the form <type>_<YYYYMMDD>.csv[.gz]', () => {
    for (const fileName of [
      'accounts_2024010.csv',
      'accounts_202401011.csv',
      'Accounts_20240101.csv',
      'accounts_20240101.CSV',
      'accounts_20240101.csv.zip',
      'x-accounts_20240101.csv',
      'accounts_20240101.csvx',
    ]) {
      expect(parseObjectKey(`incoming/c/${fileName}`)).toEqual({ ok: false, client: 'c', fileName, reason: `file name "${fileName}" is not <type>_<YYYYMMDD>.csv` });
    }
  });

  it('refuses an unknown file type, listing the known ones', () => {
    expect(parseObjectKey('incoming/c/trades_20240101.csv')).toMatchObject({ ok: false, reason: 'unknown file type "trades": expected one of accounts, clients, portfolios, transactions' });
  });

  it('refuses a batch date that is no calendar day', () => {
    expect(parseObjectKey('incoming/c/portfolios_20230229.csv')).toEqual({ ok: false, client: 'c', fileName: 'portfolios_20230229.csv', reason: 'impossible batch date 20230229' });
  });

  it('is the inverse of objectKey', () => {
    expect(objectKey('c', 'accounts_20240101.csv')).toBe(`${INCOMING_PREFIX}c/accounts_20240101.csv`);
    expect(parseObjectKey(objectKey('c', 'accounts_20240101.csv'))).toMatchObject({ ok: true, client: 'c', fileName: 'accounts_20240101.csv' });
  });
});
