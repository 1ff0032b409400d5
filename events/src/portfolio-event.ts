import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Lineage } from './lineage';

/** Money leaves the system as a decimal string with exactly two places, never a float. */
export const Money = z.string().regex(/^-?\d+\.\d{2}$/);

/** Any 8-4-4-4-12 hex reference, as the files and PostgreSQL accept it: client systems do not all mint RFC 9562 UUIDs. */
const Reference = z.guid();

/**
 * What the catapult publishes to the output Kinesis stream: one event per portfolio and batch.
 *
 * Delivery is at least once: Kinesis producers and consumers retry, and a catapult that fails after publishing (or
 * crashes before marking the batch COMPLETE) publishes the same version again. `event_id` names one portfolio's
 * event for one version of a batch, so the same event always carries the same id (see {@link portfolioEventId}):
 * consumers drop an event whose `event_id` they have already processed. `published_at` is not part of it and may
 * differ between the copies. A new generation of the batch (a correction) or a backfill that adds a transformer's figures
 * has a higher `version` and so a new id; per portfolio reference, consumers keep the event with the highest `version`.
 *
 * `event_id` was added to `portfolio.batch.v1` leaving every earlier field as it was, and `lineage` after it (what the
 * figures were made from: events/src/lineage.ts); consumers ignore fields they do not know, so an older consumer
 * reads the events unchanged.
 *
 * Reproducible: a re-run of a batch version (the catapult again after a crash, a replayed record, a redrive of its
 * step) publishes the same bytes. `published_at` is therefore not the clock at publishing but the time the batch
 * recorded for this version: when it last entered TRANSFORMED (its stage history), i.e. when its figures were complete.
 */
/** What every event carries, whatever transformers are deployed: who, which batch, which version. */
export const PortfolioEventCore = z.object({
  event_id: z.uuid(),
  type: z.literal('portfolio.batch.v1'),
  version: z.number().int().positive(),
  client: z.string(),
  batch_date: z.string().regex(/^\d{8}$/),
  portfolio_reference: Reference,
  client_reference: Reference,
  account_number: z.string(),
  published_at: z.string(),
});

/** Names no transformer may contribute: the core's, and `lineage`, which the catapult composes for every event. */
export const RESERVED_FIELDS: readonly string[] = [...Object.keys(PortfolioEventCore.shape), 'lineage'];

/**
 * The types a transformer's contribution may declare for its fields (see shared/src/transformer.ts): each field of
 * the event beyond the core comes from exactly one registered transformer.
 */
export const FIELD_TYPES = {
  money: Money,
  integer: z.number().int(),
  boolean: z.boolean(),
  text: z.string(),
  'money-by-key': z.record(z.string(), Money),
} as const;
export type FieldType = keyof typeof FIELD_TYPES;
export const FieldType = z.enum(Object.keys(FIELD_TYPES) as [FieldType, ...FieldType[]]);

/** An event as the catapult composes it: the core, and whatever fields the batch's transformers contribute. */
export type ComposedEvent = z.infer<typeof PortfolioEventCore> & Record<string, unknown>;

/** The event the batch's transformers compose: the core, its lineage and each contribution's declared fields, none missing. */
export const composedEvent = (fields: Record<string, FieldType>): z.ZodType<ComposedEvent> =>
  // The extension's keys are known only at run time; the core's are not widened by it.
  PortfolioEventCore.extend({ lineage: Lineage, ...Object.fromEntries(Object.entries(fields).map(([name, type]) => [name, FIELD_TYPES[type]])) }) as unknown as z.ZodType<ComposedEvent>;

/**
 * `portfolio.batch.v1` as consumers know it: the core and the figures of today's transformers (deposit, transaction,
 * tax), unchanged. A transformer deployed later adds its own fields under names of its own; they pass through here.
 */
export const PortfolioEvent = z.looseObject({
  ...PortfolioEventCore.shape,
  deposits_total: Money,
  deposits_running_total: Money,
  transaction_count: z.number().int().nonnegative(),
  net_amount: Money,
  totals_by_keyword: z.record(z.string(), Money),
  tax_free_allowance: Money,
  taxes_paid: Money,
  tax_transactions_total: Money,
  allowance_remaining: Money,
  tax_mismatch: z.boolean(),
  /** Every event since lineage was added carries it; earlier ones in the stream do not. */
  lineage: Lineage.optional(),
});
export type PortfolioEvent = z.infer<typeof PortfolioEvent>;

/** What identifies a portfolio event; everything else is its content. */
export type PortfolioEventKey = Pick<PortfolioEvent, 'type' | 'client' | 'batch_date' | 'version' | 'portfolio_reference'>;

/**
 * The deterministic `event_id`: the SHA-256 of the type, client, batch date, version (the batch's generation) and
 * portfolio reference, cut to 128 bits and shaped as an RFC 9562 version 8 (custom) UUID. The same inputs give the
 * same id on every publish and retry; hashing them as a JSON array keeps distinct inputs distinct whatever
 * characters a client name holds.
 */
export function portfolioEventId(key: PortfolioEventKey): string {
  const hex = createHash('sha256')
    .update(JSON.stringify([key.type, key.client, key.batch_date, key.version, key.portfolio_reference]))
    .digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
