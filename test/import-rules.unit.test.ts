import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The import rules of docs/architecture.md, read from every production file's own imports. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', '.serverless', '.esbuild', '.stryker-tmp', 'dist', 'test', 'bench', 'coverage']);
/** The workspaces' package names and the folders they name (`@dataharvest/shared/x` is shared/src/x). */
const PACKAGES: Record<string, string> = { shared: 'shared/src', events: 'events/src', local: 'local/src' };

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return SKIP.has(e.name) ? [] : sources(path);
    return /\.(ts|tsx|mjs|cjs|js)$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [path] : [];
  });
}

/** Each project path a file imports (static, dynamic or require), relative to the root; npm packages are left out. */
function importsOf(file: string, text = readFileSync(join(ROOT, file), 'utf8')): string[] {
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  return specifiers.flatMap((spec) => {
    if (spec.startsWith('.')) return [relative(ROOT, resolve(ROOT, dirname(file), spec))];
    const workspace = /^@dataharvest\/([a-z-]+)(?:\/(.*))?$/.exec(spec);
    if (!workspace) return [];
    const [, name, rest = ''] = workspace;
    return [PACKAGES[name!] ? `${PACKAGES[name!]}/${rest}` : `services/${name}/`];
  });
}

const room = (path: string) => /^services\/[^/]+/.exec(path)?.[0] ?? /^(shared|events|local\/src\/[^/]+)/.exec(path)?.[0] ?? path.split('/')[0]!;
const isTestSupport = (path: string) => /(^|\/)test(\/|$)/.test(path) || /\.test(\.ts)?$/.test(path);

/** Each rule: which files it binds, and what none of them may import. */
const RULES: Array<{ rule: string; files: (path: string) => boolean; forbidden: (target: string, file: string) => boolean }> = [
  {
    rule: 'a service imports no other service and not the local tools (local/)',
    files: (f) => f.startsWith('services/'),
    forbidden: (t, f) => (t.startsWith('services/') && room(t) !== room(f)) || t.startsWith('local/'),
  },
  { rule: 'the shared toolkit imports only the events contracts', files: (f) => f.startsWith('shared/'), forbidden: (t) => !t.startsWith('shared/') && !t.startsWith('events/') },
  { rule: 'the events contracts import nothing of the project', files: (f) => f.startsWith('events/'), forbidden: (t) => !t.startsWith('events/') },
  {
    rule: 'the local cloud imports no service, and neither the CLI nor the console',
    files: (f) => f.startsWith('local/src/cloud/'),
    forbidden: (t) => t.startsWith('services/') || t.startsWith('local/src/cli/') || t.startsWith('local/src/console/'),
  },
  { rule: 'production code never imports test support', files: () => true, forbidden: (t) => isTestSupport(t) },
];

const PRODUCTION = ['events/src', 'shared/src', 'local/src', ...readdirSync(join(ROOT, 'services')).map((s) => `services/${s}/src`)];

function violations(files: string[], read: (file: string) => string[] = (f) => importsOf(f)): string[] {
  return files.flatMap((file) =>
    RULES.filter((r) => r.files(file)).flatMap((r) =>
      read(file)
        .filter((t) => r.forbidden(t, file))
        .map((t) => `${file} imports ${t}: ${r.rule}`),
    ),
  );
}

describe('the import rules of docs/architecture.md', () => {
  const files = PRODUCTION.flatMap((dir) => sources(dir));

  it('reads the production code of every room', () => {
    for (const dir of ['services/persistence/src', 'shared/src', 'events/src', 'local/src/cloud', 'local/src/cli']) expect(files.some((f) => f.startsWith(`${dir}/`))).toBe(true);
  });

  it('holds for every production file', () => {
    expect(violations(files)).toEqual([]);
  });

  it('names the file, the import and the rule it breaks', () => {
    expect(violations(['services/tax/src/handler.ts'], () => ['services/deposit/src/register', 'local/src/cloud/index', 'shared/src/handler'])).toEqual([
      'services/tax/src/handler.ts imports services/deposit/src/register: a service imports no other service and not the local tools (local/)',
      'services/tax/src/handler.ts imports local/src/cloud/index: a service imports no other service and not the local tools (local/)',
    ]);
    expect(violations(['local/src/cloud/index.ts'], () => ['services/tax/src/handler', 'test/support/chain'])).toHaveLength(2);
    expect(importsOf('local/src/cli/x.ts', "import { a } from '@dataharvest/shared/metastore';\nconst b = await import('../cloud/index');")).toEqual(['shared/src/metastore', 'local/src/cloud/index']);
  });
});
