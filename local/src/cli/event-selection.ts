import { PortfolioEvent, PortfolioEventCore } from '@dataharvest/events/portfolio-event';
import type { z } from 'zod';

/**
 * What names an event: all a listing needs of it. Only these are checked, so events published before a later field
 * joined the contract are listed too, each exactly as it was published.
 */
const EventName = PortfolioEventCore.pick({ event_id: true, client: true, batch_date: true, portfolio_reference: true, version: true });

/** An event as the catapult published it: the fields that name it, and everything else it carries. */
export type PublishedEvent = z.infer<typeof EventName> & Record<string, unknown>;

export interface EventFilter {
  client: string;
  date?: string;
  /** Every version of each portfolio's event, not only the highest. */
  allVersions: boolean;
}

/**
 * Which of the output stream's events `dataharvest events` shows: the client's (and date's), each event once (the
 * stream delivers at least once: copies share their `event_id`), and by default only the highest version per
 * portfolio, as a consumer ends up with. Fed records in stream order, `add` returns those that are new to the listing.
 */
export class EventSelection {
  /** By event_id (every version), or by batch date and portfolio (the highest version). */
  private readonly kept = new Map<string, PublishedEvent>();

  constructor(private readonly filter: EventFilter) {}

  add(records: unknown[]): PublishedEvent[] {
    const added: PublishedEvent[] = [];
    for (const data of records) {
      if (!EventName.safeParse(data).success) continue;
      const e = data as PublishedEvent;
      if (e.client !== this.filter.client || (this.filter.date && e.batch_date !== this.filter.date)) continue;
      const key = this.filter.allVersions ? e.event_id : `${e.batch_date}#${e.portfolio_reference}`;
      const kept = this.kept.get(key);
      if (kept && (kept.event_id === e.event_id || kept.version > e.version)) continue;
      this.kept.set(key, e);
      added.push(e);
    }
    return added;
  }

  /** The listing: by batch date, portfolio and version. */
  events(): PublishedEvent[] {
    return [...this.kept.values()].sort((a, b) => a.batch_date.localeCompare(b.batch_date) || a.portfolio_reference.localeCompare(b.portfolio_reference) || a.version - b.version);
  }
}

/** The figures a line shows of today's transformers, with their labels; a later transformer's fields follow by name. */
const KEY_FIGURES: Array<[string, string]> = [
  ['deposits_total', 'deposits'],
  ['transaction_count', 'transactions'],
  ['net_amount', 'net'],
  ['taxes_paid', 'taxes paid'],
  ['allowance_remaining', 'allowance remaining'],
  ['tax_mismatch', 'tax mismatch'],
];
const KNOWN = new Set(Object.keys(PortfolioEvent.shape));

const shown = (value: unknown) => (typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));

/** One event as one line: client, batch date, portfolio, version and its key figures. */
export function eventLine(e: PublishedEvent): string {
  const figures = KEY_FIGURES.filter(([field]) => e[field] !== undefined).map(([field, label]) => `${label} ${shown(e[field])}`);
  const added = Object.keys(e)
    .filter((field) => !KNOWN.has(field))
    .sort()
    .map((field) => `${field} ${shown(e[field])}`);
  return `${e.client} ${e.batch_date} ${e.portfolio_reference} v${e.version}: ${[...figures, ...added].join(', ')}`;
}
