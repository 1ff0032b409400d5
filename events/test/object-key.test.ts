import { INCOMING_PREFIX, isCalendarDate, objectKey, parseObjectKey } from '../src/object-key';

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
    for (const client of ['_a', '-a', 'a.b', 'a b', 'x'.repeat(65), '']) {
      expect(parseObjectKey(`incoming/${client}/clients_20240101.csv`)).toEqual({
        ok: false,
        client: 'unknown',
        fileName: 'clients_20240101.csv',
        reason: `invalid client id "${client}": letters, digits, _ and - only`,
      });
    }
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
