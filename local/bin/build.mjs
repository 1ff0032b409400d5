#!/usr/bin/env node
// `npm run build`: compiles the dataharvest CLI ahead of time into local/dist, so it starts without a TypeScript
// loader. Also jest's globalSetup, so that tests which spawn the CLI run the sources as they are. The persistence
// bench is compiled with it: it runs as the functions do, bundled JavaScript on node, so that its peak RSS is the
// load's and not a TypeScript loader's (about 40 MB).
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const local = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(local, 'dist');

/** npm packages stay imports, resolved from node_modules at run time; the workspaces (TypeScript) are bundled. */
const npmPackagesExternal = {
  name: 'npm-packages-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@dataharvest/') ? undefined : { path: args.path, external: true }));
  },
};

export default async function build() {
  const result = await esbuild.build({
    entryPoints: { dataharvest: join(local, 'src/cli/main.ts'), bench: join(local, '../services/persistence/bench/bench.ts') },
    outdir: dist,
    bundle: true,
    // Chunks per dynamic import: help and --version load commander only, not the AWS SDK a command needs.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    sourcemap: 'linked',
    plugins: [npmPackagesExternal],
    write: false,
    logLevel: 'warning',
  });
  // The status console's page (local/src/console), preact and all, for the browser: `up` serves it from here.
  const page = await esbuild.build({
    entryPoints: { console: join(local, 'src/console/app.tsx') },
    outdir: dist,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    write: false,
    logLevel: 'warning',
  });
  // Other engineers' CLI processes may be starting from this directory: each file is replaced whole (rename), and
  // chunks are named by content, so a running CLI never reads half a file.
  const written = new Set();
  for (const file of [...result.outputFiles, ...page.outputFiles]) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(`${file.path}.tmp${process.pid}`, file.contents);
    renameSync(`${file.path}.tmp${process.pid}`, file.path);
    written.add(file.path);
  }
  // runtime.ts forks its function containers from function-worker.mjs next to itself: here, next to the chunks.
  const worker = join(dist, 'function-worker.mjs');
  copyFileSync(join(local, 'src/cloud/lambda/function-worker.mjs'), `${worker}.tmp${process.pid}`);
  renameSync(`${worker}.tmp${process.pid}`, worker);
  written.add(worker);
  for (const name of readdirSync(dist)) if (!written.has(join(dist, name)) && !name.includes('.tmp')) rmSync(join(dist, name), { recursive: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
