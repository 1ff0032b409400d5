#!/usr/bin/env node
// `node local/bin/package-changed.mjs [--all | --only <service>] [serverless options]`: packages the services of
// serverless-compose.yml whose inputs changed since their last packaging (all of them with --all; of them only the one
// named with --only, for `dataharvest deploy <service>`), so `npm start` on an unchanged checkout
// does not spend ~20 s re-packaging. A stamp in each service's .serverless/ records what it was packaged from.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

const STAMP = 'dataharvest-packaged.json';
/** What every bundle is built from besides the service's own directory. */
const SHARED_INPUTS = ['shared', 'events', 'package-lock.json', 'tsconfig.json'];
const SKIPPED = new Set(['node_modules', '.serverless', '.esbuild', 'test', 'bench']);

/** One hash over the paths and contents of every file under `paths` (relative to root), in a stable order. */
function hashFiles(root, paths, skip = SKIPPED) {
  const hash = createHash('sha256');
  const visit = (path) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) if (!skip.has(name)) visit(join(path, name));
      return;
    }
    hash
      .update(`${relative(root, path)}\0`)
      .update(readFileSync(path))
      .update('\0');
  };
  for (const path of paths) visit(join(root, path));
  return hash.digest('hex');
}

const inputsOf = (root, path) => hashFiles(root, [path, ...SHARED_INPUTS]);

/** A service's stamp: its inputs, the options it is packaged with, and what packaging wrote. */
function stamp(root, path, options, inputs = inputsOf(root, path)) {
  // Another packaging (`npm run package:prod`, a bare `serverless package`) rewrites .serverless/ without a stamp.
  return { options, inputs, outputs: hashFiles(root, [join(path, '.serverless')], new Set([STAMP])) };
}

const stampFile = (root, path) => join(root, path, '.serverless', STAMP);

function fresh(root, path, options) {
  const file = stampFile(root, path);
  if (!existsSync(file)) return false;
  return JSON.stringify(JSON.parse(readFileSync(file, 'utf8'))) === JSON.stringify(stamp(root, path, options));
}

function serverless(root, args) {
  const bin = join(root, 'node_modules', '.bin');
  // compose runs `serverless` of each service from PATH, as under npm. Packaging needs no AWS account, but the
  // framework wants credentials to be set.
  const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}`, SLS_TELEMETRY_DISABLED: '1' };
  env.AWS_ACCESS_KEY_ID ||= 'offline';
  env.AWS_SECRET_ACCESS_KEY ||= 'offline';
  const { status, error } = spawnSync(join(bin, 'serverless'), args, { cwd: root, stdio: 'inherit', env });
  if (error) throw error;
  return status ?? 1;
}

const composeServices = (root) => Object.entries(yaml.load(readFileSync(join(root, 'serverless-compose.yml'), 'utf8')).services).map(([name, s]) => ({ name, path: s.path }));

/** Each service of serverless-compose.yml with its package's state: fresh, stale (inputs changed) or missing. */
export function packagingStates(root, options = []) {
  return composeServices(root).map((s) => ({
    ...s,
    state: !existsSync(join(root, s.path, '.serverless', 'cloudformation-template-update-stack.json')) ? 'missing' : fresh(root, s.path, options) ? 'fresh' : 'stale',
  }));
}

export function packageChanged(root, argv) {
  const all = argv.includes('--all');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
  const options = argv.filter((a, i) => a !== '--all' && i !== onlyAt && (onlyAt < 0 || i !== onlyAt + 1));
  const services = composeServices(root);
  if (onlyAt >= 0 && !services.some((s) => s.name === only)) {
    process.stderr.write(`packaging: serverless-compose.yml has no service ${only}\n`);
    return 2;
  }
  const candidates = only ? services.filter((s) => s.name === only) : services;
  const changed = all ? candidates : candidates.filter((s) => !fresh(root, s.path, options));
  if (!changed.length) {
    process.stderr.write(`packaging: ${only ?? 'no service'} ${only ? 'has not changed' : 'changed'} since its last packaging\n`);
    return 0;
  }
  process.stderr.write(`packaging ${changed.map((s) => s.name).join(', ')}\n`);
  // compose packages one service as `<service>:package`; all of them at once is one run, not one per service.
  const runs = changed.length === services.length ? [{ args: ['package', ...options], packaged: changed }] : changed.map((s) => ({ args: [`${s.name}:package`, ...options], packaged: [s] }));
  for (const run of runs) {
    // The inputs as packaging starts: an edit made meanwhile is not in the package and must count as a change.
    const inputs = run.packaged.map((s) => inputsOf(root, s.path));
    const code = serverless(root, run.args);
    if (code !== 0) return code;
    for (const [i, s] of run.packaged.entries()) writeFileSync(stampFile(root, s.path), `${JSON.stringify(stamp(root, s.path, options, inputs[i]))}\n`);
  }
  return 0;
}

// Real paths: run through a symlinked checkout, argv names the link and import.meta.url the file.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = packageChanged(process.cwd(), process.argv.slice(2));
