import type { ValueKind } from '@dataharvest/events/file-schemas';
import { isCurrency } from './currencies';

/**
 * Per-kind value checks in two steps, both on raw bytes so that no row is ever turned into strings:
 * a byte-class table that the scanner consults for every byte anyway (it finds field ends and characters a kind
 * never contains in one lookup), then `invalidValue` on the whole field for length and shape.
 */
export const enum ByteClass {
  Ok = 0,
  Comma = 1,
  Lf = 2,
  Cr = 3,
  Quote = 4,
  Bad = 5,
}

const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';

/** The characters each kind may contain; `text` takes any character but control characters. */
const ALLOWED: Record<Exclude<ValueKind, 'text'>, string> = {
  record_id: DIGITS,
  account: DIGITS,
  money: `${DIGITS}-.`,
  currency: UPPER,
  uuid: `${DIGITS}abcdefABCDEF-`,
  reference: `${DIGITS}${UPPER}${LOWER}-_`,
  keyword: `${UPPER}_`,
  code: `${DIGITS}${UPPER}`,
};

function table(kind: ValueKind | 'any'): Uint8Array {
  const t = new Uint8Array(256);
  if (kind === 'text' || kind === 'any') {
    for (let b = 0; b < 32; b++) t[b] = ByteClass.Bad;
    t[9] = ByteClass.Ok; // tab
    t[127] = ByteClass.Bad;
  } else {
    t.fill(ByteClass.Bad);
    for (const ch of ALLOWED[kind]) t[ch.charCodeAt(0)] = ByteClass.Ok;
  }
  t[44] = ByteClass.Comma;
  t[10] = ByteClass.Lf;
  t[13] = ByteClass.Cr;
  t[34] = ByteClass.Quote;
  return t;
}

export const KIND_TABLE: Record<ValueKind, Uint8Array> = Object.fromEntries(
  (['record_id', 'account', 'money', 'currency', 'uuid', 'reference', 'keyword', 'code', 'text'] as const).map((k) => [k, table(k)]),
) as Record<ValueKind, Uint8Array>;
/** Structure only: for the header, extra values and the rest of a field already known to be bad. */
export const ANY_TABLE = table('any');

/** Longest value of each kind, in bytes. */
export const MAX_LENGTH: Record<ValueKind, number> = {
  record_id: 10,
  account: 34,
  money: 19,
  currency: 3,
  uuid: 36,
  reference: 64,
  keyword: 32,
  code: 16,
  text: 200,
};

const FORMAT: Record<ValueKind, string> = {
  record_id: 'record_id must be a whole number from 1 to 2147483647',
  account: 'account number must be 1 to 34 digits',
  money: 'not an amount: digits with an optional minus sign and at most 2 decimals',
  currency: 'not an ISO 4217 currency code',
  uuid: 'not a UUID',
  reference: 'reference must be 1 to 64 letters, digits, - or _',
  keyword: 'keyword must be 1 to 32 capital letters or _',
  code: 'code must be 1 to 16 digits or capital letters',
  text: 'text longer than 200 bytes',
};

/** What a value of the kind must look like: the reason when it does not. */
export const formatReason = (kind: ValueKind) => FORMAT[kind];

/** Why a byte that the kind's table marks Bad is wrong: binary and control characters get their own reasons. */
export function badByteReason(kind: ValueKind, byte: number): string {
  if (byte === 0) return 'binary content (NUL byte)';
  if (byte < 32 || byte === 127) return `control character 0x${byte.toString(16).padStart(2, '0')}`;
  return FORMAT[kind];
}

/** Largest record id PostgreSQL's integer holds. */
const MAX_ID = 2_147_483_647;

/** A record id's value, or -1 when it is not a whole number from 1 to MAX_ID (bytes already known to be digits). */
export function recordIdValue(buf: Uint8Array, start: number, end: number): number {
  if (end - start > 10 || buf[start] === 48) return -1;
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (buf[i]! - 48);
  return value <= MAX_ID ? value : -1;
}

/** `-?D{1,15}(.D{1,2})?` over bytes already known to be digits, '-' or '.'. */
function isMoney(buf: Uint8Array, start: number, end: number): boolean {
  let i = buf[start] === 45 ? start + 1 : start;
  const intStart = i;
  while (i < end && buf[i] !== 46 && buf[i] !== 45) i++;
  const intDigits = i - intStart;
  if (intDigits < 1 || intDigits > 15) return false;
  if (i === end) return true;
  if (buf[i] !== 46) return false;
  const decimals = end - i - 1;
  if (decimals < 1 || decimals > 2) return false;
  for (i++; i < end; i++) if (buf[i] === 45 || buf[i] === 46) return false;
  return true;
}

/** Dashes exactly at 8, 13, 18 and 23 of 36 bytes already known to be hex digits or '-'. */
function isUuid(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const dash = i === 8 || i === 13 || i === 18 || i === 23;
    if ((buf[start + i] === 45) !== dash) return false;
  }
  return true;
}

export type ShapeCheck = (buf: Uint8Array, start: number, end: number) => boolean;

/** The kinds whose bytes need more than the table and a length check; all expect 1..MAX_LENGTH allowed bytes. */
export const shapeCheck: Partial<Record<ValueKind, ShapeCheck>> = {
  record_id: (buf, start, end) => recordIdValue(buf, start, end) > 0,
  money: isMoney,
  currency: isCurrency,
  uuid: isUuid,
};

/**
 * Why the field's bytes are not a valid value of the kind, or undefined when they are. Every byte has already
 * passed the kind's table; this checks length and shape. `escapes`: doubled quotes in the bytes (quoted text), each
 * one byte of the value.
 */
export function invalidValue(kind: ValueKind, buf: Uint8Array, start: number, end: number, escapes = 0): string | undefined {
  const len = end - start - escapes;
  if (len === 0) return 'value is empty';
  if (len > MAX_LENGTH[kind]) return FORMAT[kind];
  const shape = shapeCheck[kind];
  return shape === undefined || shape(buf, start, end) ? undefined : FORMAT[kind];
}
