/**
 * The serverless.yml of a transformer service: its name, and every section from shared/transformer.yml (its stream
 * filter, its own failure queue, and the custom resource that adds it to the metastore registry).
 */
export function transformerServerlessYml(name: string, description = 'runs for batches whose relations are established and writes its status back'): string {
  return `# The ${name} transformer: ${description}.
service: dataharvest-${name}
frameworkVersion: '4'

# Deployed as every transformer is (shared/transformer.yml): only its name and what is its own are here.
custom:
  transformer: ${name}
  esbuild: \${file(../../shared/esbuild.yml)}
  statementTimeoutMs: 240000

plugins: \${file(../../shared/transformer.yml):plugins}
provider: \${file(../../shared/transformer.yml):provider}
functions: \${file(../../shared/transformer.yml):functions}
resources: \${file(../../shared/transformer.yml):resources}
`;
}

export const registerHandlerTs = `import { registrationHandler } from '@dataharvest/shared/registration';
import { contributionOf } from '@dataharvest/shared/transformer';
import { definition } from './handler';

/** Registers the transformer with what it adds to every portfolio's event. */
export const handler = registrationHandler(contributionOf(definition));
`;

/** A working first version of the transformer's SQL: per portfolio, how many transactions the batch has. */
export function transformerHandlerTs(name: string): string {
  const table = `${name.replaceAll('-', '_')}_results`;
  const figure = `${name.replaceAll('-', '_')}_transaction_count`;
  return `import { type TransformerDefinition, transformerHandler } from '@dataharvest/shared/transformer';

/**
 * The ${name} transformer. Replace the SQL with your own: $1 is the client, $2 the batch date; the statements run in
 * one transaction and must replace the batch's results, so a re-run gives identical tables. \`contributes\` is what
 * every portfolio's event carries from it, under names of its own.
 */
export const definition: TransformerDefinition = {
  name: '${name}',
  ddl: [
    \`CREATE TABLE IF NOT EXISTS ${table} (client text NOT NULL, batch_date date NOT NULL, portfolio_reference uuid NOT NULL,
       transaction_count integer NOT NULL, PRIMARY KEY (client, batch_date, portfolio_reference))\`,
  ],
  statements: [
    'DELETE FROM ${table} WHERE client = $1 AND batch_date = $2',
    \`INSERT INTO ${table}
       SELECT l.client, l.batch_date, l.portfolio_reference, count(t.record_id)
       FROM portfolio_links l
       LEFT JOIN transactions t ON t.client = l.client AND t.batch_date = l.batch_date AND t.account_number = l.account_number
       WHERE l.client = $1 AND l.batch_date = $2
       GROUP BY l.client, l.batch_date, l.portfolio_reference\`,
  ],
  contributes: {
    select: 'SELECT client, batch_date, portfolio_reference, transaction_count AS ${figure} FROM ${table}',
    fields: { ${figure}: 'integer' },
  },
};

export const handler = transformerHandler(definition);
`;
}

export function transformerPackageJson(name: string): string {
  return `${JSON.stringify({ name: `@dataharvest/${name}`, private: true, type: 'module' }, null, 2)}\n`;
}
