import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  const separator = readFileSync(compose, 'utf8').endsWith('\n') ? '' : '\n';
  appendFileSync(compose, `${separator}  ${name}:\n    path: services/${name}\n    dependsOn: [metastore, database]\n`);
  process.stdout.write(
    [
      `created services/${name} and added it to serverless-compose.yml`,
      `next: edit services/${name}/src/handler.ts, run \`npm install\` (registers the workspace) and \`npm run package\`;`,
      `the local cloud picks it up on its next start; \`npx dataharvest backfill ${name}\` runs it over batches already related.`,
      '',
    ].join('\n'),
  );
  return 0;
}
