/**
 * Just enough of semver for `engines.node` ranges as npm packages write them (`>=20.19`, `^20.17.0 || >=22`,
 * `18 - 22` is not among them): whether a Node version satisfies one, so `doctor` can say which installed package
 * asks for a newer Node than the running one, without a semver dependency in the CLI.
 */
export type Version = [number, number, number];

/** `v20.19.1`, `20.19` or `20` as [major, minor, patch]; missing parts are 0. Undefined for anything else. */
export function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?(?:-[\w.]+)?$/.exec(text.trim());
  if (!m) return undefined;
  const part = (p: string | undefined) => (p === undefined || p === 'x' || p === '*' ? 0 : Number(p));
  return [Number(m[1]), part(m[2]), part(m[3])];
}

const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** One comparator (`>=20.19`, `^22.13.0`, `~1.2`, `20`) against a version; undefined when it cannot be read. */
function comparator(version: Version, text: string): boolean | undefined {
  if (text === '*' || text === 'x' || text === '') return true;
  const m = /^(>=|<=|>|<|=|\^|~)?\s*(.+)$/.exec(text);
  const bound = m && parseVersion(m[2]!);
  if (!m || !bound) return undefined;
  const c = compare(version, bound);
  const digits = m[2]!
    .replace(/^v/, '')
    .split('.')
    .filter((p) => /^\d+$/.test(p)).length;
  switch (m[1]) {
    case '>=':
      return c >= 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '<':
      return c < 0;
    case '^':
      // ^0.y.z keeps the minor; Node's own majors are never 0, so the common case suffices.
      return c >= 0 && (bound[0] === 0 ? version[0] === 0 && version[1] === bound[1] : version[0] === bound[0]);
    case '~':
      return c >= 0 && version[0] === bound[0] && (digits < 2 || version[1] === bound[1]);
    default:
      // A bare or `=` version: as precise as it is written (`20` is any 20.x).
      return version[0] === bound[0] && (digits < 2 || version[1] === bound[1]) && (digits < 3 || version[2] === bound[2]);
  }
}

/** Whether `version` satisfies `range`; undefined when some part of the range cannot be read. */
export function satisfies(version: Version, range: string): boolean | undefined {
  let unreadable = false;
  for (const alternative of range.split('||')) {
    const parts = alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/);
    const results = parts.map((p) => comparator(version, p));
    if (results.some((r) => r === undefined)) unreadable = true;
    else if (results.every(Boolean)) return true;
  }
  return unreadable ? undefined : false;
}

/** The lowest version a `>=X.Y.Z` range admits (package.json's engines.node); undefined for other shapes. */
export function minimumOf(range: string): Version | undefined {
  const m = /^>=\s*(\S+)$/.exec(range.trim());
  return m ? parseVersion(m[1]!) : undefined;
}

export interface LockPackage {
  version?: string;
  engines?: { node?: string } | string[];
  optional?: boolean;
}

/** The packages of a package-lock.json whose `engines.node` excludes `version`: what `npm ci` warns about. */
export function packagesExcluding(lock: { packages?: Record<string, LockPackage> }, version: Version): Array<{ name: string; version?: string; node: string }> {
  return Object.entries(lock.packages ?? {}).flatMap(([path, p]) => {
    const node = !p.engines || Array.isArray(p.engines) ? undefined : p.engines.node;
    if (!path || !node || satisfies(version, node) !== false) return [];
    return [{ name: path.replace(/^.*node_modules\//, ''), version: p.version, node }];
  });
}
