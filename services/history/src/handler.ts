import { type TransformerDefinition, transformerHandler } from '@dataharvest/shared/transformer';
import { asOfDdl, BATCHES_DDL, DIMENSIONS, deleteLater, RECORD_BATCH, rewriteFrom, tableDdl } from './dimensions';

/**
 * The history transformer: type 2 slowly changing dimensions of clients, accounts and portfolios (docs/history.md),
 * and `clients_as_of(day)`, `accounts_as_of(day)`, `portfolios_as_of(day)`. Each run records its batch and rewrites
 * the versions that batch can affect, later ones included, so it needs no `laterBatchesBuildOn`; it adds nothing to
 * the events.
 */
export const definition: TransformerDefinition = {
  name: 'history',
  ddl: [BATCHES_DDL, ...DIMENSIONS.flatMap((d) => [tableDdl(d), asOfDdl(d)])],
  statements: [RECORD_BATCH, ...DIMENSIONS.flatMap((d) => [deleteLater(d), rewriteFrom(d)])],
};

export const handler = transformerHandler(definition);
