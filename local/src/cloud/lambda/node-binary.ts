import { accessSync, chmodSync, constants, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The Node.js a function runs on: its executable and its version. */
export interface NodeBinary {
  path: string;
  version: string;
}

const require = createRequire(import.meta.url);
const host: NodeBinary = { path: process.execPath, version: process.versions.node };
const found = new Map<string, NodeBinary | undefined>();

/** The major a runtime identifier names (nodejs24.x → 24), or undefined for one that is not Node.js. */
export const nodeMajor = (runtime: string): string | undefined => /^nodejs(\d+)\.x$/.exec(runtime)?.[1];

/**
 * The Node.js of the major the runtime declares: the host's when it is that major, else the binary the optional
 * dependency node-linux-<arch> holds, when it is installed at that major. Undefined when neither is.
 */
export function declaredNode(runtime: string): NodeBinary | undefined {
  const major = nodeMajor(runtime);
  if (!major) return undefined;
  if (host.version.split('.')[0] === major) return host;
  if (!found.has(major)) found.set(major, installed(major));
  return found.get(major);
}

/** The Node.js a function of this runtime runs on: the declared major when it can be had, else the host's. */
export const functionNode = (runtime: string): NodeBinary => declaredNode(runtime) ?? host;

function installed(major: string): NodeBinary | undefined {
  let manifest: string;
  try {
    manifest = require.resolve(`node-linux-${process.arch}/package.json`);
  } catch {
    return undefined;
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  if (version.split('.')[0] !== major) return undefined;
  const path = join(dirname(manifest), 'bin', 'node');
  try {
    accessSync(path, constants.X_OK);
  } catch {
    // npm marks a package's bin executable; an extraction that did not (a copied node_modules) is fixed here.
    chmodSync(path, statSync(path).mode | 0o111);
  }
  return { path, version };
}
