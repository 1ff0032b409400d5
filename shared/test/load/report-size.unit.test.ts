import type { FileDetail } from '@dataharvest/events/batch';
import { maskQuotedValues } from '@dataharvest/shared/load/copy-sink';
import { fitForMetastore, MAX_DETAIL_BYTES } from '@dataharvest/shared/load/report-size';

const detail = (errors: FileDetail['errors']): FileDetail => ({
  status: 'REJECTED',
  key: 'incoming/C/transactions_20200130.csv',
  rows: 0,
  bytes: 10,
  errors,
  error_count: errors.length + 5,
  reason: `${errors.length + 5} problems found; nothing loaded`,
  at: '2020-01-30T00:00:00.000Z',
});
const size = (d: FileDetail) => Buffer.byteLength(JSON.stringify(d));

describe('fitForMetastore', () => {
  it('leaves a detail that fits as it is', () => {
    const small = detail([{ line: 1, column: 'amount', reason: 'not an amount' }]);
    expect(fitForMetastore(small)).toBe(small);
  });

  it('cuts reasons and column labels, keeps the counts and says so', () => {
    const big = detail(Array.from({ length: 100 }, (_, i) => ({ line: 1, column: 'c'.repeat(9000), reason: `problem ${i} ${'r'.repeat(9000)}` })));
    const fitted = fitForMetastore(big);
    expect(size(fitted)).toBeLessThanOrEqual(MAX_DETAIL_BYTES);
    expect(fitted).toMatchObject({ errors_truncated: true, error_count: 105, status: 'REJECTED', reason: big.reason });
    expect(fitted.errors.length).toBe(100);
    expect(fitted.errors[7]!.reason).toMatch(/^problem 7 r+… \(9010 characters\)$/);
    expect(fitted.errors[7]!.column).toMatch(/^c{64}… \(9000 characters\)$/);
  });

  it('drops errors from the end when cut ones still do not fit', () => {
    const many = detail(Array.from({ length: 2000 }, (_, i) => ({ line: i + 1, column: 'column_name', reason: 'x'.repeat(200) })));
    const fitted = fitForMetastore(many);
    expect(size(fitted)).toBeLessThanOrEqual(MAX_DETAIL_BYTES);
    expect(fitted.errors.length).toBeGreaterThan(100);
    expect(fitted.errors.length).toBeLessThan(2000);
    expect(fitted.errors[0]).toEqual(many.errors[0]);
    expect(fitted.errors_truncated).toBe(true);
  });
});

describe('maskQuotedValues', () => {
  it('replaces each value PostgreSQL quotes by its length', () => {
    expect(maskQuotedValues('invalid input syntax for type date: "Frida Müller"')).toBe('invalid input syntax for type date: (a value of 12 characters)');
    expect(maskQuotedValues('value too long for type character varying(64)')).toBe('value too long for type character varying(64)');
  });
});
