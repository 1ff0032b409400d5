import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every repository path a reader is pointed at exists: paths in backticks in README.md, CONTRIBUTING.md and docs/, and
 * paths in the comments of code and templates. A path is anything under one of the repository's top-level folders;
 * `src/…` in a doc (a service's own folder) must exist in some package.
 */
const ROOTS = ['services', 'shared', 'events', 'local', 'test', 'docs', 'database', 'metastore', 'examples'];
const PATH = new RegExp(`(?<![\\w./-])((?:${ROOTS.join('|')})/[\\w.*<>/-]*[\\w*>/])`, 'g');
const PACKAGE_RELATIVE = /^src\/[\w./-]+\.\w+$/;

/** Intentional placeholders and examples: a name the reader supplies, or what the scaffold's example creates. */
const PLACEHOLDERS = new Set(['services/<name>', 'services/<name>/', 'services/fx-exposure/', 'shared/src/x']);

const SKIPPED = /(^|\/)(node_modules|\.git|\.serverless|\.esbuild|\.stryker-tmp|dist|\.dataharvest)(\/|$)/;
const repoFiles = readdirSync('.', { recursive: true })
  .map(String)
  .filter((f) => !SKIPPED.test(f));
const filesUnder = (dir: string, pattern: RegExp) => repoFiles.filter((f) => f.startsWith(`${dir}/`) && pattern.test(f));

const glob = (path: string) => new RegExp(`^${path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')}/?$`);
const exists = (path: string) => (path.includes('*') ? repoFiles.some((f) => glob(path).test(f)) : existsSync(path));
const packages = ['shared', 'events', 'local', ...readdirSync('services').map((s) => `services/${s}`)];

/** A comment's text on one line of code or YAML, or nothing. */
function commentOf(line: string, yaml: boolean): string {
  const trimmed = line.trim();
  if (yaml) return trimmed.startsWith('#') ? trimmed : line.includes(' # ') ? line.slice(line.indexOf(' # ')) : '';
  if (/^(\/\/|\/\*|\*)/.test(trimmed)) return trimmed;
  return line.includes(' // ') ? line.slice(line.indexOf(' // ')) : '';
}

/** The paths a file points at that do not exist, as `file -> path`. */
function missingPaths(file: string, text: string): string[] {
  const pointed: string[] = [];
  if (file.endsWith('.md')) {
    for (const [, quoted] of text.matchAll(/`([^`\n]+)`/g)) {
      pointed.push(...[...quoted!.matchAll(PATH)].map((m) => m[1]!));
      if (PACKAGE_RELATIVE.test(quoted!) && !packages.some((p) => existsSync(join(p, quoted!)))) pointed.push(`<a package>/${quoted}`);
    }
  } else {
    const yaml = /\.ya?ml$/.test(file);
    for (const line of text.split('\n')) pointed.push(...[...commentOf(line, yaml).matchAll(PATH)].map((m) => m[1]!));
  }
  return pointed.filter((p) => !PLACEHOLDERS.has(p) && !exists(p)).map((p) => `${file} -> ${p}`);
}

const docs = ['README.md', 'CONTRIBUTING.md', ...filesUnder('docs', /\.md$/)];
const code = [
  ...['shared', 'events', 'local', 'test', 'services'].flatMap((dir) => filesUnder(dir, /\.(ts|tsx|mjs|cjs)$/)),
  ...filesUnder('services', /serverless\.yml$/),
  ...filesUnder('shared', /\.yml$/),
  'database/serverless.yml',
  'metastore/serverless.yml',
  'serverless-compose.yml',
];

describe('paths named in docs and comments', () => {
  it('finds a wrong path, a wrong package-relative one, and lets a placeholder be', () => {
    expect(missingPaths('docs/x.md', 'see `shared/src/load/nowhere.ts`, `src/nowhere.ts`, `services/<name>` and `shared/src/pg.ts`')).toEqual([
      'docs/x.md -> shared/src/load/nowhere.ts',
      'docs/x.md -> <a package>/src/nowhere.ts',
    ]);
    expect(missingPaths('a.ts', '// as services/persistence/src/values.ts does\nconst s = "services/persistence/src/not-a-comment.ts";')).toEqual(['a.ts -> services/persistence/src/values.ts']);
  });

  it('in README.md, CONTRIBUTING.md and docs/ all exist', () => {
    expect(docs.length).toBeGreaterThan(10);
    expect(docs.flatMap((f) => missingPaths(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it("in code and templates' comments all exist", () => {
    expect(code.length).toBeGreaterThan(100);
    expect(code.flatMap((f) => missingPaths(f, readFileSync(f, 'utf8')))).toEqual([]);
  });
});
