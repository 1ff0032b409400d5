import { printable } from '../src/cli/printable';

describe('printable: control characters escaped as JSON escapes them', () => {
  it('leaves ordinary text, Unicode included, as it is', () => {
    for (const text of ['incoming/ACME/accounts_20200130.csv', 'Müller “quoted” €', 'a\\b "x"', '']) expect(printable(text)).toBe(text);
  });

  it('escapes C0 as JSON does, and DEL and C1, which JSON leaves raw', () => {
    expect(printable('a\x1b[31mred\x1b[0m')).toBe('a\\u001b[31mred\\u001b[0m');
    expect(printable('x\r\ny\tz\b\f\0')).toBe('x\\r\\ny\\tz\\b\\f\\u0000');
    expect(printable('a\x7fb\u0085c\u009b2J')).toBe('a\\u007fb\\u0085c\\u009b2J');
    // Every C0 escape is the one JSON writes.
    for (let code = 0; code < 0x20; code++) expect(printable(String.fromCharCode(code))).toBe(JSON.stringify(String.fromCharCode(code)).slice(1, -1));
  });
});
