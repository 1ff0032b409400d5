import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { javaVersion } from '../cloud/emulators/dynamodb';
import { freePort } from '../cloud/emulators/ports';
import { assertPostgresCanReach } from '../cloud/emulators/postgres-access';
import { CloudError } from '../cloud/errors';
import { cloudHolding, findRunningCloud } from './connection';
import { type LockPackage, packagesExcluding, parseVersion, satisfies } from './node-version';

export type Level = 'ok' | 'warn' | 'fail';

/** One thing doctor looked at: what, how it stands, and what to do when it is not ok. */
export interface Finding {
  check: string;
  level: Level;
  message: string;
}

const finding = (check: string, level: Level, message: string): Finding => ({ check, level, message });

/** A CloudError's message is the finding; anything else is a bug, thrown. */
const failed = (check: string, error: unknown): Finding => {
  if (error instanceof CloudError) return finding(check, 'fail', error.message);
  throw error;
};

/** The running Node against package.json's engines, and every package of the lock file against the running Node. */
export function nodeFindings(root: string, version = process.version): Finding[] {
  const running = parseVersion(version)!;
  const path = join(root, 'package.json');
  if (!existsSync(path)) return [finding('node', 'warn', `${version}; no package.json in ${root}: run doctor in the repository`)];
  const wanted = (JSON.parse(readFileSync(path, 'utf8')) as { engines?: { node?: string } }).engines?.node ?? '*';
  const out = [
    satisfies(running, wanted) === false
      ? finding('node', 'fail', `${version}, but package.json's engines want ${wanted}: install a Node that does`)
      : finding('node', 'ok', `${version} (package.json's engines: ${wanted})`),
  ];
  const lockPath = join(root, 'package-lock.json');
  const lock = existsSync(lockPath) ? (JSON.parse(readFileSync(lockPath, 'utf8')) as { packages?: Record<string, LockPackage> }) : {};
  for (const p of packagesExcluding(lock, running)) out.push(finding('node', 'warn', `${p.name}@${p.version ?? '?'} (package-lock.json) wants Node ${p.node}: npm ci warns of it`));
  return out;
}

function javaFinding(): Finding {
  try {
    return finding('java', 'ok', `${javaVersion()} (DynamoDB Local needs 17 or later)`);
  } catch (error) {
    return failed('java', error);
  }
}

/** As root, PostgreSQL runs as the user postgres: the check the local cloud makes before it starts. */
async function postgresFinding(dataDir: string): Promise<Finding> {
  if (process.getuid?.() !== 0) return finding('postgres', 'ok', 'PostgreSQL runs as you (not root): nothing to check');
  try {
    await assertPostgresCanReach(dataDir);
    return finding('postgres', 'ok', `the user postgres can reach PostgreSQL's programs and ${dataDir}`);
  } catch (error) {
    return failed('postgres', error);
  }
}

/** Whether something accepts connections at the URL's host and port, within a second. */
const answers = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname, () => {
      socket.destroy();
      resolve(true);
    });
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('close', () => resolve(false));
  });

/** Whether a cloud runs on the data dir (and its emulators answer), or loopback ports are there for one to start. */
async function cloudFindings(dataDir: string): Promise<Finding[]> {
  const up = findRunningCloud(dataDir);
  if (up) {
    const endpoints = Object.entries(up.env).filter(([key]) => key.startsWith('AWS_ENDPOINT_URL_'));
    const silent = [];
    for (const [key, url] of endpoints) if (!(await answers(url))) silent.push(key.replace('AWS_ENDPOINT_URL_', '').toLowerCase());
    return [
      silent.length
        ? finding('cloud', 'fail', `\`dataharvest up\` (pid ${up.pid}) runs on ${dataDir}, but ${silent.join(', ')} do(es) not answer: restart it`)
        : finding('cloud', 'ok', `\`dataharvest up\` (pid ${up.pid}) runs on ${dataDir}; its ${endpoints.length} endpoints answer`),
    ];
  }
  const holder = cloudHolding(dataDir);
  const state = holder ? finding('cloud', 'ok', `a run's own cloud (pid ${holder}) holds ${dataDir}`) : finding('cloud', 'ok', `no local cloud runs on ${dataDir}`);
  try {
    await freePort();
    return [state, finding('ports', 'ok', 'loopback ports are free to take (up takes a free one per service unless --…-port fixes it)')];
  } catch (error) {
    return [state, finding('ports', 'fail', `no loopback port to listen on (${(error as Error).message})`)];
  }
}

interface PackagingState {
  name: string;
  state: 'fresh' | 'stale' | 'missing';
}

/** Which services are packaged, and whether from their current inputs (local/bin/package-changed.mjs's stamps). */
async function packagingFindings(root: string): Promise<Finding[]> {
  const script = join(root, 'local/bin/package-changed.mjs');
  if (!existsSync(script)) return [finding('packages', 'warn', `no local/bin/package-changed.mjs in ${root}: run doctor in the repository`)];
  const { packagingStates } = (await import(pathToFileURL(script).href)) as { packagingStates: (root: string) => PackagingState[] };
  const states = packagingStates(root);
  const named = (state: PackagingState['state']) => states.filter((s) => s.state === state).map((s) => s.name);
  const [fresh, stale, missing] = [named('fresh'), named('stale'), named('missing')];
  return [
    ...(fresh.length ? [finding('packages', 'ok', `packaged and fresh: ${fresh.join(', ')}`)] : []),
    ...(stale.length ? [finding('packages', 'warn', `changed since packaged: ${stale.join(', ')}: \`npm start\` packages what changed (node local/bin/package-changed.mjs)`)] : []),
    ...(missing.length ? [finding('packages', 'warn', `not packaged: ${missing.join(', ')}: \`npm start\` or \`npm run package\` packages them`)] : []),
  ];
}

/** `dataharvest doctor`: one line per finding about what the local cloud needs; exit 1 when any fails. */
export async function doctor(opts: { dataDir: string; json: boolean }, root = process.cwd()): Promise<number> {
  const findings = [...nodeFindings(root), javaFinding(), await postgresFinding(opts.dataDir), ...(await cloudFindings(opts.dataDir)), ...(await packagingFindings(root))];
  const ok = !findings.some((f) => f.level === 'fail');
  if (opts.json) process.stdout.write(`${JSON.stringify({ ok, findings })}\n`);
  else for (const f of findings) process.stdout.write(`${f.level.padEnd(4)} ${f.check}: ${f.message}\n`);
  return ok ? 0 : 1;
}
