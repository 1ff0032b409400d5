import iso4217 from 'currency-codes';

/**
 * The codes the `currency` column takes: ISO 4217 List One as the currency-codes package ships it (its publication
 * date is `ISO_4217_PUBLISHED`; a new list arrives with an update of the pinned package). Every entry is a unit a
 * balance can be held in, national currencies (VED, CUC, …) as well as funds (BOV, CHE, CLF, …), precious metals
 * (XAU, XAG, …) and units such as XDR, which custody accounts do hold. Left out are the two codes that name no unit:
 * XTS (reserved for testing) and XXX (no currency involved).
 */
export const ISO_4217_PUBLISHED: string = iso4217.publishDate;
const NO_UNIT = new Set(['XTS', 'XXX']);
export const CURRENCY_CODES: readonly string[] = iso4217.codes().filter((code) => !NO_UNIT.has(code));

/** Three capital letters as one index, so a currency is checked without building a string. */
const code3 = (a: number, b: number, c: number) => (a - 65) * 676 + (b - 65) * 26 + (c - 65);
const CURRENCY = new Uint8Array(26 * 26 * 26);
for (const c of CURRENCY_CODES) CURRENCY[code3(c.charCodeAt(0), c.charCodeAt(1), c.charCodeAt(2))] = 1;

/** Whether the bytes, already known to be capital letters, are one of `CURRENCY_CODES`. */
export const isCurrency = (buf: Uint8Array, start: number, end: number) => end - start === 3 && CURRENCY[code3(buf[start]!, buf[start + 1]!, buf[start + 2]!)] === 1;
