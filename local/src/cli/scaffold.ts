import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './errors';
import { registerHandlerTs, transformerHandlerTs, transformerPackageJson, transformerServerlessYml } from './scaffold-templates';

const NAME = /^[a-z][a-z0-9-]{1,30}$/;

/**
 * `dataharvest new transformer <name>`: a complete service under services/<name> (config with its stream filter
 * and registry entry, handler with working SQL) and its line in serverless-compose.yml. No other service changes.
 */
export function newTransformer(name: string, root = process.cwd()): number {
  if (!NAME.test(name)) throw new UsageError('a transformer name is 2 to 31 lower-case letters, digits or -, starting with a letter');
  const dir = join(root, 'services', name);
  if (existsSync(dir)) throw new UsageError(`services/${name} already exists`);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), transformerPackageJson(name));
  writeFileSync(join(dir, 'serverless.yml'), transformerServerlessYml(name));
  writeFileSync(join(dir, 'src', 'handler.ts'), transformerHandlerTs(name));
  writeFileSync(join(dir, 'src', 'register.ts'), registerHandlerTs);
  const compose = join(root, 'serverless-compose.yml');
  writeFileSync(compose, composeWith(readFileSync(compose, 'utf8'), name));
  process.stdout.write(
    [
      `created services/${name} and added it to serverless-compose.yml (before persistence)`,
      `next: edit services/${name}/src/handler.ts, run \`npm install\` (registers the workspace), then`,
      `\`npx dataharvest deploy ${name}\` into the running local cloud and \`npx dataharvest backfill ${name} --wait\` for batches already related.`,
      '',
    ].join('\n'),
  );
  return 0;
}

const PERSISTENCE_DEPENDS_ON = /(\n {2}persistence:\n(?: {4}.*\n)*? {4}dependsOn: \[)([^\]]*)\]/;

/**
 * serverless-compose.yml with the transformer's entry, and the transformer in persistence's dependsOn: persistence
 * deploys last, so on a new stage the transformer is registered before any file can arrive.
 */
export function composeWith(compose: string, name: string): string {
  if (!PERSISTENCE_DEPENDS_ON.test(compose)) throw new UsageError('serverless-compose.yml has no persistence entry with a dependsOn list: add the transformer by hand');
  const ordered = compose.replace(PERSISTENCE_DEPENDS_ON, (_, head: string, list: string) => `${head}${list}, ${name}]`);
  return `${ordered}${ordered.endsWith('\n') ? '' : '\n'}  ${name}:\n    path: services/${name}\n    dependsOn: [metastore, database]\n`;
}
