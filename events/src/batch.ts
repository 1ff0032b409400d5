import { z } from 'zod';
import { FieldType } from './portfolio-event';
import { ControlDetail, FileReconciliation } from './control-schema';
import { Quality } from './quality';

/** The four daily files a client sends; each has a `<type>_persisted` flag on its batch. */
export const FILE_TYPES = ['accounts', 'clients', 'portfolios', 'transactions'] as const;
export const FileType = z.enum(FILE_TYPES);
export type FileType = z.infer<typeof FileType>;

/** The metastore flag a file type sets (the seed's names: singular). */
export const persistedFlag = {
  accounts: 'account_persisted',
  clients: 'client_persisted',
  portfolios: 'portfolio_persisted',
  transactions: 'transaction_persisted',
} as const satisfies Record<FileType, string>;

/** True when all four files of the batch are loaded. */
export const allPersisted = (batch: Pick<Batch, (typeof persistedFlag)[FileType]>) => FILE_TYPES.every((t) => batch[persistedFlag[t]]);

/** The metastore keeps batch dates as YYYYMMDD; PostgreSQL wants them as ISO dates. */
export const isoDate = (yyyymmdd: string) => `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;

/** The ISO date of the day after: the exclusive upper bound of a batch date's partition. */
export const nextIsoDate = (yyyymmdd: string) => new Date(Date.parse(`${isoDate(yyyymmdd)}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

export const STAGES = ['RECEIVING', 'LATE', 'REJECTED', 'PERSISTED', 'RELATED', 'TRANSFORMED', 'COMPLETE', 'FAILED'] as const;
export const Stage = z.enum(STAGES);
export type Stage = z.infer<typeof Stage>;

/** One row-level problem; the header is line 1. */
export const RowError = z.object({ line: z.number().int().positive(), column: z.string().optional(), reason: z.string() });
export type RowError = z.infer<typeof RowError>;

export const FileStatus = z.enum(['LOADING', 'PERSISTED', 'REJECTED', 'FAILED']);
export type FileStatus = z.infer<typeof FileStatus>;

/** One rewrite of an archived file by an erasure request (its sk), when, and the SHA-256 of the bytes it left. */
export const FileErasure = z.object({ request: z.string(), at: z.string(), sha256: z.string() });
export type FileErasure = z.infer<typeof FileErasure>;

/** What the metastore keeps about the latest upload of one file of a batch. */
export const FileDetail = z.object({
  status: FileStatus,
  key: z.string(),
  etag: z.string().optional(),
  rows: z.number().int().nonnegative(),
  rejected_rows: z.number().int().nonnegative().optional(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().optional(),
  /** When the upload was stored (the object's Last-Modified), for lineage. */
  uploaded_at: z.string().optional(),
  /** The sum of the loaded rows' money columns (a decimal), what a control file's money_sum is held to. */
  money_sum: z.string().optional(),
  /** Its reconciliation with the batch's control file (events/src/control.ts). */
  control: FileReconciliation.optional(),
  duration_ms: z.number().nonnegative().optional(),
  reason: z.string().optional(),
  error_count: z.number().int().nonnegative().optional(),
  errors: z.array(RowError),
  /** The errors above were cut to fit the metastore item: the full report is in errors/<key>.json. */
  errors_truncated: z.boolean().optional(),
  /**
   * Erasures (`dataharvest forget`) that rewrote the archived file since, in order, each with the SHA-256 of the bytes
   * it left: `sha256` above stays the upload's, for audit (docs/lineage.md).
   */
  erasures: z.array(FileErasure).optional(),
  /** A large file loaded in chunks: its upload and how many of its chunks are loaded. */
  upload_id: z.string().optional(),
  chunks: z.object({ total: z.number().int().positive(), done: z.number().int().nonnegative() }).optional(),
  at: z.string(),
});
export type FileDetail = z.infer<typeof FileDetail>;

export const TransformerStatus = z.enum(['RUNNING', 'DONE', 'FAILED']);
export const TransformerState = z.object({
  status: TransformerStatus,
  generation: z.number().int(),
  at: z.string(),
  duration_ms: z.number().optional(),
  summary: z.record(z.string(), z.unknown()).optional(),
  reason: z.string().optional(),
  /** The code digest of what ran (its SQL: events/src/lineage.ts codeDigest), which the events' lineage names. */
  digest: z.string().optional(),
});
export type TransformerState = z.infer<typeof TransformerState>;

/** One (client, batch date) item of the metastore, as its stream's NewImage carries it. */
export const Batch = z.object({
  pk: z.string(),
  sk: z.string(),
  client: z.string(),
  batch_date: z.string().regex(/^\d{8}$/),
  stage: Stage,
  generation: z.number().int().nonnegative(),
  account_persisted: z.boolean(),
  client_persisted: z.boolean(),
  portfolio_persisted: z.boolean(),
  transaction_persisted: z.boolean(),
  relation_established: z.boolean(),
  files: z.record(z.string(), FileDetail),
  transformers: z.record(z.string(), TransformerState),
  required_transformers: z.array(z.string()).optional(),
  data_quality: z.record(z.string(), z.number()).optional(),
  /** The data-quality rules' outcome for this generation (events/src/quality.ts). */
  quality: Quality.optional(),
  events_published: z.number().int().optional(),
  /** How often a backfill re-opened the batch for a transformer: its events are published again, a version higher. */
  republished: z.number().int().nonnegative().optional(),
  /** Per transformer, a fingerprint of this batch's part in figures later batches build on (running totals). */
  fingerprints: z.record(z.string(), z.string()).optional(),
  /** Each stage the batch entered after RECEIVING (entered at created_at), in order: how long each one took. */
  stage_history: z.array(z.object({ stage: Stage, at: z.string() })).optional(),
  /** The batch's control file, when the client sent one (events/src/control.ts). */
  control: ControlDetail.optional(),
  /** The delivery check found files missing at the client's cut-off (services/delivery): kept once they arrive. */
  late: z.object({ cut_off: z.string(), missing: z.array(z.string()), at: z.string() }).optional(),
  /** Why a step failed the batch for this generation (markFailed). */
  failure: z.object({ step: z.string(), reason: z.string(), at: z.string() }).optional(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Batch = z.infer<typeof Batch>;

/** The version of a batch's events: up with every generation and with every backfill that re-opens it. */
export const eventVersion = (batch: Pick<Batch, 'generation' | 'republished'>) => batch.generation + (batch.republished ?? 0);

/** A file whose object key could not be accepted at all (unknown type, bad date, path tricks). */
export const RejectedKey = z.object({
  pk: z.string(),
  sk: z.string(),
  client: z.string(),
  key: z.string(),
  file_name: z.string(),
  stage: z.literal('REJECTED'),
  reason: z.string(),
  at: z.string(),
});
export type RejectedKey = z.infer<typeof RejectedKey>;

/** A SQL identifier the catapult may quote into its query: lower-case letters, digits and underscores. */
const Identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/);

/**
 * What a transformer adds to each portfolio's event: a view with one row per (client, batch_date,
 * portfolio_reference) and the declared fields, and each field's type. The catapult joins the views of the batch's
 * required transformers; nothing in it names a transformer.
 */
export const Contribution = z.object({
  view: Identifier,
  fields: z.record(Identifier, FieldType),
  /** The code digest of the transformer's definition, recorded at registration: which version is deployed. */
  digest: z.string().optional(),
});
export type Contribution = z.infer<typeof Contribution>;

/** A transformer's entry in the registry, contributed by the transformer's own service on deploy. */
export const RegistryEntry = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/),
  required: z.boolean(),
  registered_at: z.string(),
  contribution: Contribution.optional(),
});
export type RegistryEntry = z.infer<typeof RegistryEntry>;
