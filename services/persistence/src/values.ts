import type { ValueKind } from '@dataharvest/events/file-schemas';

/** Active ISO 4217 codes (2024), for the `currency` column. */
const ISO_4217 = new Set(('AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF ' +
  'CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR ' +
  'IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK ' +
  'MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD ' +
  'SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG').split(' '));

const isDigit = (b: number) => b >= 48 && b <= 57;
const isUpper = (b: number) => b >= 65 && b <= 90;
const isHex = (b: number) => isDigit(b) || (b >= 97 && b <= 102) || (b >= 65 && b <= 70);

function all(buf: Uint8Array, len: number, max: number, ok: (b: number) => boolean): boolean {
  if (len > max) return false;
  for (let i = 0; i < len; i++) if (!ok(buf[i]!)) return false;
  return true;
}

/** Largest record id PostgreSQL's integer holds. */
const MAX_ID = 2_147_483_647;

/** Parses a record id; -1 when it is not a positive whole number that fits an integer. */
export function recordId(buf: Uint8Array, len: number): number {
  if (len === 0 || len > 10 || buf[0] === 48) return -1;
  let value = 0;
  for (let i = 0; i < len; i++) {
    const b = buf[i]!;
    if (!isDigit(b)) return -1;
    value = value * 10 + (b - 48);
  }
  return value <= MAX_ID ? value : -1;
}

function money(buf: Uint8Array, len: number): boolean {
  let i = buf[0] === 45 ? 1 : 0;
  const intStart = i;
  while (i < len && isDigit(buf[i]!)) i++;
  const intDigits = i - intStart;
  if (intDigits === 0 || intDigits > 15) return false;
  if (i === len) return true;
  if (buf[i] !== 46) return false;
  const decimals = len - i - 1;
  if (decimals < 1 || decimals > 2) return false;
  for (i++; i < len; i++) if (!isDigit(buf[i]!)) return false;
  return true;
}

function uuid(buf: Uint8Array, len: number): boolean {
  if (len !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const dash = i === 8 || i === 13 || i === 18 || i === 23;
    if (dash ? buf[i] !== 45 : !isHex(buf[i]!)) return false;
  }
  return true;
}

/** Why a value of this kind is invalid, or undefined when it is valid. Bytes are the unquoted field content. */
export function invalidValue(kind: ValueKind, buf: Uint8Array, len: number): string | undefined {
  if (len === 0) return 'value is empty';
  switch (kind) {
    case 'record_id': return recordId(buf, len) > 0 ? undefined : 'record_id must be a whole number from 1 to 2147483647';
    case 'money': return money(buf, len) ? undefined : 'not an amount: digits with an optional sign and at most 2 decimals';
    case 'currency':
      return len === 3 && isUpper(buf[0]!) && isUpper(buf[1]!) && isUpper(buf[2]!) && ISO_4217.has(String.fromCharCode(buf[0]!, buf[1]!, buf[2]!))
        ? undefined : 'not an ISO 4217 currency code';
    case 'uuid': return uuid(buf, len) ? undefined : 'not a UUID';
    case 'account': return all(buf, len, 34, (b) => isDigit(b) || isUpper(b)) ? undefined : 'account number must be 1 to 34 digits or capital letters';
    case 'reference': return all(buf, len, 64, (b) => isDigit(b) || isUpper(b) || (b >= 97 && b <= 122) || b === 45 || b === 95) ? undefined : 'reference must be 1 to 64 letters, digits, - or _';
    case 'keyword': return all(buf, len, 32, (b) => isUpper(b) || b === 95) ? undefined : 'keyword must be 1 to 32 capital letters or _';
    case 'code': return all(buf, len, 16, (b) => isDigit(b) || isUpper(b)) ? undefined : 'code must be 1 to 16 digits or capital letters';
    case 'text': return len <= 200 ? undefined : 'text longer than 200 bytes';
  }
}
