import type { FileType } from '@dataharvest/events/batch';
import { mix, seededRandom, uuidFrom } from './random';

/** The header the real client sends, typo included: generated files exercise the alias mapping. */
export const HEADERS: Record<FileType, string> = {
  accounts: 'record_id,accout_number,cash_balance,currency,taxes_paid',
  clients: 'record_id,first_name,last_name,client_reference,tax_free_allowance',
  portfolios: 'record_id,accout_number,portfolio_reference,client_reference,agent_code',
  transactions: 'record_id,accout_number,transaction_reference,amount,keyword',
};

const FIRST = ['Frida', 'Fritz', 'Anna', 'Jörg', 'Zoë', 'Luca', 'Émile', 'Mia', 'Noah', 'Ines'];
const LAST = ['Müller', 'Maier', 'Schmidt', 'Öztürk', 'Nguyen', 'García', 'Rossi', "O'Brien", 'Smith', 'Kowalski'];
const CURRENCIES = ['EUR', 'EUR', 'EUR', 'USD', 'CHF', 'GBP'];
const KEYWORDS = ['DEPOSIT', 'WITHDRAWAL', 'TAX', 'FEE', 'BUY', 'SELL', 'DIVIDEND', 'INTEREST'];
const LETTERS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
const HEX = [...'0123456789abcdef'];

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const accountNumber = (k: number) => String(10_000_000 + k);
const clientReference = (seed: number, k: number) => uuidFrom(seededRandom(mix(seed, `client#${k}`)));
const portfolioReference = (seed: number, k: number) => uuidFrom(seededRandom(mix(seed, `portfolio#${k}`)));

/** Cents as a decimal string with exactly two decimals, never through a float's formatting. */
function money(cents: number): string {
  const abs = Math.abs(cents);
  const frac = abs % 100;
  return `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${frac < 10 ? '0' : ''}${frac}`;
}

export interface RowContext {
  seed: number;
  random: () => number;
  accounts: number;
  /** Quote some names with a line break or doubled quotes inside. */
  quoted?: boolean;
  /** Transactions whose account the batch does not have (a data-quality orphan): true for those ids. */
  orphan?: (id: number) => boolean;
}

/**
 * Row `id` (1-based) of a file type, CSV-encoded without its line break. Account k, client k and portfolio k
 * belong together (portfolio k holds account k for client k); transactions pick among the first `accounts` accounts.
 */
export function row(type: FileType, id: number, ctx: RowContext): string {
  const { seed, random: r, accounts } = ctx;
  switch (type) {
    case 'accounts':
      return `${id},${accountNumber(id)},${money(Math.floor(r() * 4_000_000) - 500_000)},${pick(r, CURRENCIES)},${money(Math.floor(r() * 200_000))}`;
    case 'clients': {
      // Every 50th client has a quoted name with a comma, as RFC 4180 allows.
      let last = id % 50 === 0 ? `"${pick(r, LAST)}, Jr."` : pick(r, LAST);
      let first = pick(r, FIRST);
      // The harder cases on request: a line break and doubled quotes inside quoted names (no extra random draws,
      // so the figures stay those of the plain file).
      if (ctx.quoted && id % 7 === 0) first = `"${first}\nMaria"`;
      if (ctx.quoted && id % 11 === 0 && !last.startsWith('"')) last = `"${last} ""the elder"""`;
      return `${id},${first},${last},${clientReference(seed, id)},${money(Math.floor(r() * 100_000))}`;
    }
    case 'portfolios': {
      let agent = '';
      for (let i = 0; i < 6; i++) agent += pick(r, LETTERS);
      return `${id},${accountNumber(id)},${portfolioReference(seed, id)},${clientReference(seed, id)},${agent}`;
    }
    case 'transactions': {
      let reference = '';
      for (let i = 0, n = 8 + Math.floor(r() * 5); i < n; i++) reference += pick(r, HEX);
      const account = 1 + Math.floor(r() * accounts);
      // An orphan names an account past the batch's ones, one of its own (so the draw above still happens).
      const number = ctx.orphan?.(id) ? accountNumber(accounts + id) : accountNumber(account);
      return `${id},${number},${reference},${money(Math.floor(r() * 2_000_000) - 1_000_000)},${pick(r, KEYWORDS)}`;
    }
  }
}
