import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { REGION } from '../account';
import { CloudError } from '../errors';
import { hostCheckingFront, type Listening } from '../http';
import { freePort, pickPort, waitForPort } from './ports';
import { reapOnExit } from './reaper';
import type { StreamWrites } from './stream-writes';

export interface DynamoDb {
  endpoint: string;
  /**
   * Test hook (the chaos suite): DynamoDB Local stops, and starts again on the same port and data after `ms`, so
   * every request meanwhile is refused. Only a persistent cloud (a data dir) keeps its tables over it.
   */
  outage(ms: number): Promise<void>;
  stop(): Promise<void>;
}

const JAVA_MISSING = 'DynamoDB Local needs Java 17+: install a JDK (apt-get install openjdk-17-jre-headless)';

/** The version of the `java` DynamoDB Local runs on, as `java -version` names it; a CloudError when missing or older than 17. */
export function javaVersion(): string {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) throw new CloudError(JAVA_MISSING);
  const version = /version "([^"]+)"/.exec(java.stderr)?.[1] ?? '0';
  const major = Number(/^(?:1\.)?(\d+)/.exec(version)?.[1] ?? 0);
  if (major < 17) throw new CloudError(`${JAVA_MISSING}; found Java ${major}`);
  return version;
}

/** DynamoDB Local running: `ready` once it listens, `stop` ends it. */
export interface DynamoDbLocal {
  ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * AWS's DynamoDB Local (shipped in npm `amplify-dynamodb-simulator`) on `port`: its tables in `dir`, or in memory.
 * One database per access key and Region unless `sharedDb`, as DynamoDB Local keeps them.
 */
export function launchDynamoDbLocal(port: number, opts: { dir?: string; sharedDb: boolean; log: (l: string) => void }): DynamoDbLocal {
  javaVersion();
  const home = join(dirname(createRequire(import.meta.url).resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  const storage = opts.dir ? ['-dbPath', opts.dir] : ['-inMemory'];
  // A small serial-GC heap: the tables of a local run are tiny, and the machine may have two cores. Tier-1 (C1) JIT
  // only: C2 compiling DynamoDB Local at start-up took more than half of its CPU time over a whole test file.
  const child = spawn(
    'java',
    [
      '-Xmx512m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(home, 'DynamoDBLocal.jar'),
      '-port',
      String(port),
      ...(opts.sharedDb ? ['-sharedDb'] : []),
      '-disableTelemetry',
      ...storage,
    ],
    { cwd: home, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const disarm = reapOnExit(child.pid!, 'TERM');
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on(
    'line',
    withoutKnownNoise((l) => opts.log(`dynamodb: ${l}`)),
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    disarm();
    child.kill('SIGTERM');
    if (!(await within(exited, 10_000))) child.kill('SIGKILL');
  };
  const ready = Promise.race([
    waitForPort(port, 30_000, 'DynamoDB Local'),
    exited.then(() => {
      throw new CloudError('DynamoDB Local exited at start-up: is its data directory used by another cloud?');
    }),
  ]);
  return { stop, ready };
}

/**
 * DynamoDB Local, streams included, behind a front on a free (or the given) port. Offered `sharedPort` (one already
 * running without `-sharedDb`, as the test suite starts for all its clouds), a cloud uses that one: the front names
 * one database for every caller of this cloud (the access key and Region DynamoDB Local keeps databases by), so no
 * two clouds see each other's tables, and the JVM's start-up (about 4 s of CPU) is paid once. A cloud with a data
 * dir keeps its database's name there, so a restart on the dir finds its tables for as long as that JVM runs.
 * Otherwise a cloud runs its own: its tables in the data dir, or in memory.
 */
export async function startDynamoDb(dir: string | undefined, log: (l: string) => void, writes: StreamWrites, fixedPort?: number, sharedPort?: number): Promise<DynamoDb> {
  // DynamoDB Local cannot check a Host header: it listens on a port of its own, behind a front that does.
  const front = await pickPort(fixedPort, 'DynamoDB Local');
  if (sharedPort) {
    const fronted = await hostCheckingFront(sharedPort, front, writes.watchDynamoDb(), inNamespace(dir ? keptNamespace(dir) : newNamespace()));
    const outage = () => Promise.reject(new CloudError('a DynamoDB Local outage needs a cloud with a DynamoDB Local of its own: this one uses the one it was offered'));
    return { endpoint: fronted.endpoint, outage, stop: fronted.stop };
  }
  const port = await freePort();
  if (dir) mkdirSync(join(dir, 'dynamodb'), { recursive: true });
  const launch = () => launchDynamoDbLocal(port, { dir: dir && join(dir, 'dynamodb'), sharedDb: true, log });
  let running = launch();
  let stopped = false;
  let fronted: Listening | undefined;
  const stop = async () => {
    stopped = true;
    await fronted?.stop();
    return running.stop();
  };
  try {
    await running.ready;
    fronted = await hostCheckingFront(port, front, writes.watchDynamoDb());
  } catch (error) {
    await stop();
    throw error;
  }
  const outage = async (ms: number) => {
    if (!dir) throw new CloudError('a DynamoDB Local outage needs a persistent cloud (a data dir): in memory its tables would be lost');
    await running.stop();
    await new Promise((r) => setTimeout(r, ms));
    // A cloud stopped during the outage stays stopped.
    if (stopped) return;
    running = launch();
    await running.ready;
  };
  return { endpoint: fronted.endpoint, outage, stop };
}

const newNamespace = () => `cloud${randomUUID().replaceAll('-', '')}`;

/** The database a data dir's cloud uses in an offered DynamoDB Local: named once, so a reset dir gets a new one. */
function keptNamespace(dir: string): string {
  const file = join(dir, 'dynamodb', 'namespace');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const name = newNamespace();
  writeFileSync(file, name);
  return name;
}

/** Signed requests' headers with `key` as their access key and one Region: DynamoDB Local's database of the cloud. */
function inNamespace(key: string): (req: IncomingMessage) => IncomingMessage['headers'] {
  return ({ headers }) => (headers.authorization ? { ...headers, authorization: headers.authorization.replace(/Credential=[^/,\s]*\/(\d{8})\/[^/]*\//, `Credential=${key}/$1/${REGION}/`) } : headers);
}

/** java.util.logging's first line of a record ("Dec 01, 2026 10:22:50 PM com.amazonaws.log.JulLog warn"). */
const JUL_HEADER = /^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M \S+ \S+$/;
/** What DynamoDB Local prints on every start and that asks nothing of the user. */
const KNOWN_NOISE = [/^WARNING: JAXB is unavailable\./];

/**
 * DynamoDB Local's stderr lines, less its known start-up noise. A log record comes as a header line, then its
 * message: the header is held until its message shows whether the record is noise.
 */
export function withoutKnownNoise(log: (line: string) => void): (line: string) => void {
  let header: string | undefined;
  return (line) => {
    if (!line.trim()) return;
    if (header === undefined && JUL_HEADER.test(line)) {
      header = line;
      return;
    }
    const held = header;
    header = undefined;
    if (KNOWN_NOISE.some((n) => n.test(line))) return;
    if (held !== undefined) log(held);
    log(line);
  };
}

/** Whether the promise settles within ms, without leaving a timer behind to hold the process open. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
