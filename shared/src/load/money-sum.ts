/**
 * The exact sum of a file's money values (numeric(17,2): at most 15 digits and 2 decimals), added up by the
 * validator from the bytes it passes, so that no query scans the loaded rows for it. Cents add up as a Number while
 * that is exact and move to a bigint long before it could stop being so.
 */
export class MoneySum {
  private cents = 0;
  private big = 0n;

  /** Exact cents: `moneyCents` of one record's values (each below 2^50, two at most in a record). */
  add(cents: number): void {
    this.cents += cents;
    if (this.cents > FLUSH_AT || this.cents < -FLUSH_AT) {
      this.big += BigInt(this.cents);
      this.cents = 0;
    }
  }

  addBig(cents: bigint): void {
    this.big += cents;
  }

  /** As PostgreSQL prints the sum as numeric(38,2): `0.00`, `-0.05`, `1234.50`. */
  toString(): string {
    const total = this.big + BigInt(this.cents);
    const abs = total < 0n ? -total : total;
    return `${total < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
  }
}

const FLUSH_AT = 2 ** 52;
/** Values with more integer digits than this are added as bigints (bigMoneyCents). */
const MAX_NUMBER_DIGITS = 13;

/**
 * The cents of a money value the validator accepted (`-?D{1,15}(.D{1,2})?`): exact for up to 13 integer digits, NaN for
 * a larger value, which bigMoneyCents reads instead.
 */
export function moneyCents(buf: Uint8Array, start: number, end: number): number {
  const negative = buf[start] === 45;
  let i = negative ? start + 1 : start;
  let units = 0;
  const digitsEnd = Math.min(end, i + MAX_NUMBER_DIGITS);
  for (; i < digitsEnd && buf[i] !== 46; i++) units = units * 10 + (buf[i]! - 48);
  if (i < end && buf[i] !== 46) return Number.NaN;
  const cents = units * 100 + (i + 1 < end ? (buf[i + 1]! - 48) * 10 : 0) + (i + 2 < end ? buf[i + 2]! - 48 : 0);
  return negative ? -cents : cents;
}

export function bigMoneyCents(buf: Uint8Array, start: number, end: number): bigint {
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
  const [units, decimals = ''] = text.replace('-', '').split('.');
  const cents = BigInt(units!) * 100n + BigInt(decimals.padEnd(2, '0'));
  return text.startsWith('-') ? -cents : cents;
}
