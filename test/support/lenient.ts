import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The packaged persistence service with one lenient client, as a deploy with that param would package it: a copy
 * under `scratch` for `cloud.deploy`.
 */
export function lenientPersistence(scratch: string, client: string): string {
  const dir = join(scratch, 'persistence');
  cpSync('services/persistence/.serverless', join(dir, '.serverless'), { recursive: true });
  const file = join(dir, '.serverless', 'cloudformation-template-update-stack.json');
  const template = JSON.parse(readFileSync(file, 'utf8'));
  const fn = Object.values(template.Resources as Record<string, { Properties?: { Environment?: { Variables?: Record<string, string> } } }>).find(
    (r) => r.Properties?.Environment?.Variables?.LENIENT_CLIENTS !== undefined,
  );
  if (!fn) throw new Error('the packaged persistence function has no LENIENT_CLIENTS');
  fn.Properties!.Environment!.Variables!.LENIENT_CLIENTS = client;
  writeFileSync(file, JSON.stringify(template));
  return dir;
}
