import { CsvValidator } from '@dataharvest/shared/load/csv-validator';

const A = 'record_id,account_number,cash_balance,currency,taxes_paid';
/** The sum as numeric(38,2) prints it, computed apart from the validator: decimal strings to bigint cents. */
const expectedSum = (values: string[]) => {
  const cents = values.reduce((sum, v) => {
    const [units, decimals = ''] = v.replace('-', '').split('.');
    const c = BigInt(units!) * 100n + BigInt(decimals.padEnd(2, '0'));
    return sum + (v.startsWith('-') ? -c : c);
  }, 0n);
  const abs = cents < 0n ? -cents : cents;
  return `${cents < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
};
const sumOf = (text: string, cuts: number[] = [], keepRejected = false) => {
  const v = new CsvValidator('accounts', { keepRejected });
  const bytes = Buffer.from(text);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    v.push(bytes.subarray(from, cut));
    from = cut;
  }
  v.end();
  return v.moneySum.toString();
};

describe('the money sum the validator adds up', () => {
  it('is exact for signs, one or two decimals, zero and 15-digit amounts, however chunked', () => {
    const values = [
      ['1.5', '-0.05'],
      ['-0', '0.00'],
      ['999999999999999.99', '999999999999999.99'],
      ['-123456789012345.6', '7'],
      ['9999999999999.99', '-10000000000000'],
      ['"12.34"', '1'],
    ];
    const text = [A, ...values.map(([cash, taxes], i) => `${i + 1},1234,${cash},EUR,${taxes}`)].join('\n');
    const expected = expectedSum(values.flat().map((v) => v.replaceAll('"', '')));
    for (let cut = 1; cut < text.length; cut += 7) expect([cut, sumOf(text, [cut])]).toEqual([cut, expected]);
  });

  it('stays exact past what a Number holds in cents (2^53)', () => {
    const big = '999999999999.99';
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i + 1},1234,${big},EUR,${big}`);
    expect(sumOf([A, ...rows].join('\n'))).toBe(expectedSum(Array(40_000).fill(big)));
  });

  it('counts only the records a lenient load keeps', () => {
    const text = [A, '1,1234,10.00,EUR,1', '2,1234,x,EUR,1000', '3,1234,5.25,EUR,1', '3,1234,7,EUR,1'].join('\n');
    expect(sumOf(text, [], true)).toBe('17.25');
  });

  it('is 0.00 for a file without money columns or rows', () => {
    const v = new CsvValidator('portfolios');
    v.push(Buffer.from('record_id,account_number,portfolio_reference,client_reference,portfolio_type\n'));
    v.end();
    expect(v.moneySum.toString()).toBe('0.00');
  });
});
