import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import yaml from 'js-yaml';

/** serverless.yml's own tags (!ImportValue, !GetAtt, …) as plain values: only the settings matter to a reader. */
const schema = yaml.DEFAULT_SCHEMA.extend(
  ['ImportValue', 'GetAtt', 'Ref', 'Sub', 'Join', 'If', 'Equals', 'Select', 'Split'].flatMap((tag) =>
    (['scalar', 'sequence', 'mapping'] as const).map((kind) => new yaml.Type(`!${tag}`, { kind, construct: (data: unknown) => data })),
  ),
);

/** A value that is one whole `${file(<fragment>.yml)…}` variable, as a service includes a section of shared/. */
const FRAGMENT = /^\$\{file\(([^)]+\.ya?ml)\)(?::([\w.]+))?\}$/;

function included(dir: string, value: unknown): unknown {
  const fragment = typeof value === 'string' ? FRAGMENT.exec(value) : null;
  if (fragment) {
    const content = yaml.load(readFileSync(join(dir, fragment[1]!), 'utf8'), { schema });
    const section = (fragment[2] ?? '')
      .split('.')
      .filter(Boolean)
      .reduce((at: unknown, key) => (at as Record<string, unknown>)[key], content);
    return included(dir, section);
  }
  if (Array.isArray(value)) return value.map((v) => included(dir, v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, included(dir, v)]));
  return value;
}

/**
 * A service's serverless.yml with the YAML fragments it includes in place, as osls includes them (paths from the
 * service's directory); every other variable, a value read from shared/limits.json included, stays as written.
 */
export function serverlessConfig(path: string): Record<string, unknown> {
  return included(dirname(path), yaml.load(readFileSync(path, 'utf8'), { schema })) as Record<string, unknown>;
}
