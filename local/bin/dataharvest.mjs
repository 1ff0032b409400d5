#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly so the repository needs no build step.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // Lambda runs Node 22; the CLI may run on 20
register();
await import('../src/cli/main.ts');
