import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

/** The compiled CLI as a user runs it; every call here fails or answers before starting anything. */
const cli = (...args: string[]) =>
  promisify(execFile)('node', ['local/bin/dataharvest.mjs', ...args], { timeout: 30_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

const COMMANDS = ['up', 'upload', 'status', 'run', 'generate', 'new', 'backfill'];

describe('dataharvest usage', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints the help of every command and the exit codes, exit 0', async (flag) => {
    const { code, stdout, stderr } = await cli(flag);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^Usage: dataharvest /);
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(stdout).toContain('Exit codes: 0 ok; 1 failed or rejected');
  });

  it.each([...COMMANDS.map((c) => [c]), ['new transformer']])('%s: --help and help print its usage, exit 0', async (command) => {
    const words = command.split(' ');
    const direct = await cli(...words, '--help');
    expect(direct).toMatchObject({ code: 0, stderr: '', stdout: expect.stringMatching(new RegExp(`^Usage: dataharvest ${command} `)) });
    // help takes one command; `new transformer`'s help is `new help transformer`.
    const viaHelp = words.length === 1 ? await cli('help', command) : await cli(words[0]!, 'help', words[1]!);
    expect(viaHelp).toEqual(direct);
  });

  it('run --help names its options with their defaults', async () => {
    const { stdout } = await cli('run', '--help');
    for (const option of ['--client <id>', '--json', '--timeout <seconds>', '(default: "300")', '--data-dir <dir>', '(default: ".dataharvest")']) expect(stdout).toContain(option);
  });

  it('--version is the version of the root package.json', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(await cli('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('a mistyped command is one line with a suggestion, exit 2', async () => {
    expect(await cli('stauts')).toEqual({ code: 2, stdout: '', stderr: "dataharvest: unknown command 'stauts' (Did you mean status?)\n" });
  });

  it('a mistyped option is one line with a suggestion, exit 2', async () => {
    expect(await cli('status', '--clent', 'X')).toEqual({ code: 2, stdout: '', stderr: "dataharvest: unknown option '--clent' (Did you mean --client?)\n" });
  });

  it.each([
    ['up', '--client', 'X'],
    ['upload', 'f.csv', '--json'],
    ['status', '--timeout', '3'],
    ['run', 'f.csv', '--since', '20200101'],
    ['generate', '--client', 'X'],
    ['new', 'transformer', 'fx', '--data-dir', 'd'],
    ['backfill', 'fx', '--rows', '3'],
  ])('%s refuses an option that only another command takes, in one line, exit 2', async (...args) => {
    const option = args.find((a) => a.startsWith('--'));
    expect(await cli(...args)).toEqual({ code: 2, stdout: '', stderr: `dataharvest: unknown option '${option}'\n` });
  });

  it('a usage error of a command is one line, exit 2', async () => {
    expect(await cli('run', 'examples/sample-batch')).toEqual({ code: 2, stdout: '', stderr: 'dataharvest: --client ID is required\n' });
    expect(await cli('up', 'extra')).toMatchObject({ code: 2, stderr: "dataharvest: too many arguments for 'up'. Expected 0 arguments but got 1.\n" });
  });

  it('no command prints the help to stderr, exit 2', async () => {
    const { code, stdout, stderr } = await cli();
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(/^Usage: dataharvest /);
  });
});
