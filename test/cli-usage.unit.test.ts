import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { failureCode } from '../local/src/cli/failure';
import { program } from '../local/src/cli/program';

/** The compiled CLI as a user runs it; every call here fails or answers before starting anything. */
const cli = (...args: string[]) =>
  promisify(execFile)('node', ['local/bin/dataharvest.mjs', ...args], { timeout: 30_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

/**
 * The program's answer in this process, as main.ts gives it (failure.ts): the help of every command and the usage
 * errors are checked without starting a process for each of them; a few are also checked through the compiled CLI.
 */
async function inProcess(...args: string[]) {
  const out = { stdout: '', stderr: '' };
  const cli = program(() => undefined);
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(cli)) c.configureOutput({ writeOut: (s) => void (out.stdout += s), writeErr: (s) => void (out.stderr += s) });
  const code = await cli.parseAsync(args, { from: 'user' }).then(
    () => 0,
    (e: unknown) => failureCode(e, (line) => void (out.stderr += line)),
  );
  return { code, ...out };
}

/** Every command and subcommand the program defines, as a user types it (`new transformer`). */
const commandsOf = (command: Command, prefix = ''): string[] => command.commands.flatMap((sub) => [`${prefix}${sub.name()}`, ...commandsOf(sub, `${prefix}${sub.name()} `)]);
const ALL_COMMANDS = commandsOf(program(() => undefined));
const COMMANDS = ALL_COMMANDS.filter((c) => !c.includes(' '));

describe('dataharvest usage', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints the help of every command and the exit codes, exit 0', async (flag) => {
    const { code, stdout, stderr } = await cli(flag);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^Usage: dataharvest /);
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(stdout).toContain('Exit codes: 0 ok; 1 failed or rejected');
  });

  it.each(ALL_COMMANDS.map((c) => [c]))('%s: --help and help print its usage, exit 0', async (command) => {
    const words = command.split(' ');
    const direct = await inProcess(...words, '--help');
    expect(direct).toMatchObject({ code: 0, stderr: '', stdout: expect.stringMatching(new RegExp(`^Usage: dataharvest ${command} `)) });
    // help takes one command; `new transformer`'s help is `new help transformer`.
    const viaHelp = words.length === 1 ? await inProcess('help', command) : await inProcess(words[0]!, 'help', words[1]!);
    expect(viaHelp).toEqual(direct);
  });

  it('run --help names its options with their defaults', async () => {
    const { stdout } = await cli('run', '--help');
    for (const option of ['--client <id>', '--json', '--timeout <seconds>', '(default: "300")', '--data-dir <dir>', '(default: ".dataharvest")']) expect(stdout).toContain(option);
  });

  it('status --help says which exit code means what: in progress is healthy', async () => {
    const { stdout } = await cli('status', '--help');
    expect(stdout).toContain('Exit codes: 0 every batch asked about is COMPLETE or in progress; 1 one is FAILED, REJECTED or LATE');
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
    expect(await inProcess(...args)).toEqual({ code: 2, stdout: '', stderr: `dataharvest: unknown option '${option}'\n` });
  });

  it.each([
    [['forget'], '--client-reference takes a client reference (a UUID)'],
    [['forget', '--client-reference', 'not-a-uuid'], '--client-reference takes a client reference (a UUID)'],
    [['redrive'], 'redrive takes --id ID (from `dataharvest failures`) or --all'],
    [['redrive', '--id', 'x', '--all'], 'redrive takes --id ID (from `dataharvest failures`) or --all'],
  ])('%j is a usage error before connecting (no cloud runs there), exit 2', async (args, message) => {
    // Through the compiled CLI: these commands import their modules at once, which jest's ESM loader cannot.
    expect(await cli(...args, '--data-dir', join(tmpdir(), 'dataharvest-never-started'))).toEqual({ code: 2, stdout: '', stderr: `dataharvest: ${message}\n` });
  });

  it('a usage error of a command is one line, exit 2', async () => {
    expect(await cli('run', 'examples/sample-batch')).toEqual({ code: 2, stdout: '', stderr: 'dataharvest: --client ID is required\n' });
    expect(await inProcess('up', 'extra')).toMatchObject({ code: 2, stderr: "dataharvest: too many arguments for 'up'. Expected 0 arguments but got 1.\n" });
  });

  it('run checks the client id and every file name before it starts or uploads anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataharvest-names-'));
    for (const name of ['accounts_20200130.csv', 'trades_20200130.csv', 'clients_20200231.csv']) writeFileSync(join(dir, name), 'x\n');
    expect(await cli('run', dir, '--client', 'C', '--data-dir', join(dir, 'cloud'))).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'dataharvest: persistence would refuse 2 of 3 file(s), so nothing was uploaded: clients_20200231.csv (impossible batch date 20200231); trades_20200130.csv (unknown file type "trades": expected one of accounts, clients, portfolios, transactions)\n',
    });
    expect(await cli('run', 'examples/sample-batch', '--client', 'no/such', '--data-dir', join(dir, 'cloud'))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^dataharvest: --client no\/such is no client id: [^\n]+\n$/),
    });
    // Nothing was started on the data dir.
    expect(existsSync(join(dir, 'cloud'))).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it('run and upload refuse a 300-character client id or a bad file name in one line before uploading, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataharvest-names-'));
    const long = 'C'.repeat(300);
    const stderr = `dataharvest: --client ${'C'.repeat(64)}… (300 characters) is no client id: letters, digits, _ and - only, at most 64, starting with a letter or digit\n`;
    for (const command of ['run', 'upload']) expect(await cli(command, 'examples/sample-batch', '--client', long, '--data-dir', join(dir, 'cloud'))).toEqual({ code: 2, stdout: '', stderr });
    writeFileSync(join(dir, 'accounts_99991231.csv'), 'x\n');
    expect(await cli('upload', join(dir, 'accounts_99991231.csv'), '--client', 'C', '--data-dir', join(dir, 'cloud'))).toEqual({
      code: 2,
      stdout: '',
      stderr: 'dataharvest: persistence would refuse 1 of 1 file(s), so nothing was uploaded: accounts_99991231.csv (batch date 99991231 is outside 1900-01-01..2100-12-31)\n',
    });
    expect(existsSync(join(dir, 'cloud'))).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it.each([
    [['status', '--date', '2024-03-15'], '--date takes a calendar date as YYYYMMDD, not 2024-03-15'],
    [['status', '--client', 'C', '--date', '20240230'], '--date takes a calendar date as YYYYMMDD, not 20240230'],
    [['backfill', 'fx', '--since', '20230229'], '--since takes a calendar date as YYYYMMDD, not 20230229'],
    [['backfill', 'fx', '--since', '2024'], '--since takes a calendar date as YYYYMMDD, not 2024'],
    [['events', '--client', 'C', '--date', '2020-01-30'], '--date takes a calendar date as YYYYMMDD, not 2020-01-30'],
    [['reports', '--client', 'C', '--date', '20200230'], '--date takes a calendar date as YYYYMMDD, not 20200230'],
    [['lineage', '--client', 'C', '--date', '2020-01-30', '--portfolio', 'P'], '--date takes a calendar date as YYYYMMDD, not 2020-01-30'],
    [['status', '--date', '21010101'], '--date 21010101 is outside 1900-01-01..2100-12-31'],
  ])('%j refuses a date that is no batch date in one line before connecting, exit 2', async (args, message) => {
    // No cloud runs on this data dir: a date checked only after connecting would be a "no local cloud" exit 1.
    expect(await inProcess(...args, '--data-dir', join(tmpdir(), 'dataharvest-never-started'))).toEqual({ code: 2, stdout: '', stderr: `dataharvest: ${message}\n` });
  });

  it.each([
    [['lineage', '--client', 'C', '--date', '20200130'], '--event-id ID, or --client ID --date YYYYMMDD --portfolio REF, is required'],
    [['lineage', '--event-id', 'E', '--client', 'C'], '--event-id or --client --date --portfolio, not both'],
  ])('%j names the event it needs in one line before connecting, exit 2', async (args, message) => {
    expect(await inProcess(...args, '--data-dir', join(tmpdir(), 'dataharvest-never-started'))).toEqual({ code: 2, stdout: '', stderr: `dataharvest: ${message}\n` });
  });

  it.each([
    [['generate', 'batch', '--client', 'C', '--portfolios', '3'], '--date YYYYMMDD is required'],
    [['generate', 'batch', '--client', 'C', '--date', '20240230', '--portfolios', '3'], '--date takes a calendar date as YYYYMMDD, not 20240230'],
    [['generate', 'batch', '--client', 'C/D', '--date', '20240318', '--portfolios', '3'], '--client C/D is no client id: letters, digits, _ and - only, at most 64, starting with a letter or digit'],
    [['generate', 'batch', '--client', 'C', '--date', '20240318', '--portfolios', '0'], '--portfolios takes a whole number of at least 1, not 0'],
    [['generate', 'batch', '--client', 'C', '--date', '20240318', '--portfolios', '2', '--orphans', '120%'], '--orphans takes a percentage from 0% to 100%, not 120%'],
    [['generate', '--type', 'accounts', '--rows', '2', '--date', '2024-03-18'], '--date takes a calendar date as YYYYMMDD, not 2024-03-18'],
  ])('%j is a usage error in one line, nothing written, exit 2', async (args, message) => {
    expect(await inProcess(...args, ...(args.includes('batch') ? ['--out', join(tmpdir(), 'dataharvest-never-written')] : []))).toEqual({ code: 2, stdout: '', stderr: `dataharvest: ${message}\n` });
    expect(existsSync(join(tmpdir(), 'dataharvest-never-written'))).toBe(false);
  });

  it('generate batch writes the four files of a batch named for the client and date; generate --type takes --date too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataharvest-generate-'));
    const batch = await cli('generate', 'batch', '--client', 'ACME_BANK', '--date', '20240318', '--portfolios', '20', '--transactions-per-account', '3', '--orphans', '5%', '--out', dir);
    expect(batch).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        ...['accounts 20', 'clients 20', 'portfolios 20', 'transactions 60'].map((f) => `wrote ${f.split(' ')[1]} ${f.split(' ')[0]} rows to ${join(dir, `${f.split(' ')[0]}_20240318.csv`)}`),
        '3 transaction(s) name an account the batch does not have (data quality fails the batch above 1% by default)',
        `run it: npx dataharvest run ${dir} --client ACME_BANK`,
        '',
      ].join('\n'),
    });
    const json = await cli('generate', 'batch', '--client', 'ACME_BANK', '--date', '20240318', '--portfolios', '20', '--transactions-per-account', '3', '--orphans', '5%', '--out', dir, '--json');
    expect(JSON.parse(json.stdout)).toEqual({
      client: 'ACME_BANK',
      batch_date: '20240318',
      out: dir,
      files: ['accounts', 'clients', 'portfolios', 'transactions'].map((type) => ({ type, path: join(dir, `${type}_20240318.csv`), rows: type === 'transactions' ? 60 : 20 })),
      orphans: 3,
    });
    const single = await cli('generate', '--type', 'portfolios', '--rows', '2', '--date', '20240319', '--out', join(dir, 'portfolios_20240319.csv'));
    expect(single).toMatchObject({ code: 0, stdout: `wrote 2 portfolios rows to ${join(dir, 'portfolios_20240319.csv')}\n` });
    expect(readdirSync(dir).sort()).toEqual(['accounts_20240318.csv', 'clients_20240318.csv', 'portfolios_20240318.csv', 'portfolios_20240319.csv', 'transactions_20240318.csv']);
    rmSync(dir, { recursive: true });
  });

  it.each([
    ['--pg-port', 'x', 'dataharvest: --pg-port takes a port number (1-65535), not x\n'],
    ['--s3-port', '70000', 'dataharvest: --s3-port takes a port number (1-65535), not 70000\n'],
    ['--log-format', 'xml', 'dataharvest: --log-format takes text or json, not xml\n'],
  ])('up %s %s is one line, exit 2', async (option, value, stderr) => {
    expect(await cli('up', option, value, '--data-dir', join(tmpdir(), 'dataharvest-never-started'))).toEqual({ code: 2, stdout: '', stderr });
  });

  it('reset removes the state of a data dir, and refuses one a live cloud holds or that holds other files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataharvest-reset-'));
    for (const sub of ['postgres', 'dynamodb', 'functions/f']) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, 'cloud.log'), 'log\n');
    // The lock names a live process (this one): as if a cloud ran on the dir.
    writeFileSync(join(dir, 'cloud.lock'), String(process.pid));
    expect(await cli('reset', '--data-dir', dir)).toEqual({
      code: 1,
      stdout: '',
      stderr: `dataharvest: a local cloud (pid ${process.pid}) is running on ${dir}: stop it (Ctrl-C in its terminal) before reset\n`,
    });
    writeFileSync(join(dir, 'cloud.lock'), '999999999'); // a dead one's lock
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    expect(await cli('reset', '--data-dir', dir)).toMatchObject({ code: 1, stderr: `dataharvest: ${dir} holds notes.txt, which the local cloud did not write: not resetting it\n` });
    rmSync(join(dir, 'notes.txt'));
    expect(await cli('reset', '--data-dir', dir)).toEqual({ code: 0, stdout: `reset ${dir}: the next \`dataharvest up\` starts empty\n`, stderr: '' });
    expect(readdirSync(dir)).toEqual([]);
    rmSync(dir, { recursive: true });
    expect(await cli('reset', '--data-dir', dir)).toEqual({ code: 0, stdout: `nothing to reset: ${dir} does not exist\n`, stderr: '' });
  });

  it('no command prints the help to stderr, exit 2', async () => {
    const { code, stdout, stderr } = await cli();
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(/^Usage: dataharvest /);
  });
});
