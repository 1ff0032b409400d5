import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Finding, nodeFindings } from '../src/cli/doctor';

const doctor = (...args: string[]) =>
  promisify(execFile)('node', ['local/bin/dataharvest.mjs', 'doctor', ...args], { timeout: 60_000 }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );

describe('dataharvest doctor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dataharvest-doctor-')); // mode 0700: the user postgres may not enter it
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("holds the running Node to package.json's engines, and names each lock package that wants a newer one", () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ engines: { node: '>=20.19' } }));
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ packages: { '': {}, 'node_modules/cookie': { version: '2.0.2', engines: { node: '>=22' } } } }));
    expect(nodeFindings(dir, 'v20.19.0')).toEqual([
      { check: 'node', level: 'ok', message: "v20.19.0 (package.json's engines: >=20.19)" },
      { check: 'node', level: 'warn', message: 'cookie@2.0.2 (package-lock.json) wants Node >=22: npm ci warns of it' },
    ]);
    expect(nodeFindings(dir, 'v20.18.1')[0]).toEqual({ check: 'node', level: 'fail', message: "v20.18.1, but package.json's engines want >=20.19: install a Node that does" });
  });

  it('prints one line per finding, each ok, warn or fail, and the same as one JSON object', async () => {
    const text = await doctor('--data-dir', join(tmpdir(), 'dataharvest-doctor-never-started'));
    const lines = text.stdout.trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^(ok {2}|warn|fail) (node|java|postgres|cloud|ports|packages): \S/);
    const json = await doctor('--json', '--data-dir', join(tmpdir(), 'dataharvest-doctor-never-started'));
    const report = JSON.parse(json.stdout) as { ok: boolean; findings: Finding[] };
    expect(report.findings.map((f) => f.check)).toEqual(expect.arrayContaining(['node', 'java', 'postgres', 'cloud', 'ports', 'packages']));
    expect(report.findings.map((f) => `${f.level.padEnd(4)} ${f.check}: ${f.message}`)).toEqual(lines);
    // The project's own lock file needs nothing newer than package.json says.
    expect(report.findings.filter((f) => f.check === 'node')).toEqual([expect.objectContaining({ level: 'ok' })]);
    expect(text.code).toBe(report.ok ? 0 : 1);
    expect(report.ok).toBe(!report.findings.some((f) => f.level === 'fail'));
  });

  (process.getuid?.() === 0 ? it : it.skip)('fails, exit 1, on a data dir the user postgres cannot reach, naming the directory', async () => {
    const { code, stdout } = await doctor('--data-dir', join(dir, 'cloud'));
    expect(code).toBe(1);
    expect(stdout).toContain(`fail postgres: PostgreSQL runs as the user postgres, who cannot enter ${dir} (mode 0700): use --data-dir on a path it can reach, e.g. /tmp/dataharvest\n`);
  });
});
