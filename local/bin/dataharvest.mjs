#!/usr/bin/env node
// The CLI is compiled ahead of time (`npm run build`, run by `npm ci`, `npm start` and `npm test`) into local/dist.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/dataharvest.mjs', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('dataharvest: the CLI is not built: run `npm run build` in the repository\n');
  process.exit(1);
}
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // Lambda runs Node 24; the CLI may run on 20
process.setSourceMapsEnabled(true); // a bug's stack trace names the TypeScript sources
await import(cli.href);
