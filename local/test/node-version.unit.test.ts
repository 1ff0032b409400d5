import { readFileSync } from 'node:fs';
import { minimumOf, packagesExcluding, parseVersion, satisfies, type Version } from '../src/cli/node-version';

const v = (text: string) => parseVersion(text)!;

describe('satisfies', () => {
  it.each([
    ['20.19.0', '>=20.19', true],
    ['20.18.3', '>=20.19', false],
    ['20.19.0', '>=22', false],
    ['20.19.0', '>=23.5.0 || ^22.13.0 || ^20.17.0', true],
    ['21.0.0', '>=23.5.0 || ^22.13.0 || ^20.17.0', false],
    ['24.1.0', '^18.18.0 || ^20.9.0 || >=21.1.0', true],
    ['20.19.0', '>= 18', true],
    ['18.4.0', '18.x', true],
    ['19.0.0', '18', false],
    ['20.19.0', '~20.18.1', false],
    ['20.18.5', '~20.18.1', true],
    ['20.19.0', '>=14 <21', true],
    ['22.0.0', '>=14 <21', false],
    ['20.19.0', '*', true],
  ])('%s in %s: %s', (version, range, expected) => {
    expect(satisfies(v(version), range)).toBe(expected);
  });

  it('cannot read what it does not know, rather than guess', () => {
    expect(satisfies(v('20.0.0'), '18 - 22')).toBeUndefined();
    expect(parseVersion('latest')).toBeUndefined();
  });
});

describe('the Node version the project states is what its lock file needs', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
  const minimum = minimumOf(pkg.engines.node) as Version;

  it('package.json states a minimum, and the README and CONTRIBUTING.md name it', () => {
    expect(minimum).toBeDefined();
    const stated = `Node.js ${minimum[0]}.${minimum[1]} or later`;
    for (const doc of ['README.md', 'CONTRIBUTING.md']) expect(readFileSync(doc, 'utf8')).toContain(stated);
  });

  it('every package of package-lock.json runs on that minimum (npm ci warns of none)', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
    expect(packagesExcluding(lock, minimum)).toEqual([]);
  });

  it('names a package whose engines exclude the version', () => {
    const lock = { packages: { '': { engines: { node: '>=20.19' } }, 'node_modules/cookie': { version: '2.0.2', engines: { node: '>=22' } } } };
    expect(packagesExcluding(lock, v('20.19.0'))).toEqual([{ name: 'cookie', version: '2.0.2', node: '>=22' }]);
  });
});
