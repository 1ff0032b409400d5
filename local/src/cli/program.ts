import { Command } from 'commander';
import pkg from '../../../package.json' with { type: 'json' };
import { dateOption } from './dates';
import { UsageError } from './errors';
import { chunkSizeParameters } from './sizes';

const DATA_DIR = '.dataharvest';
const CHUNK_SIZE_HELP = "files above this size load in parallel chunks of about this size, e.g. 1MiB (default: the template's 64MiB)";

const AFTER_HELP = `
Exit codes: 0 ok; 1 failed or rejected (a batch not COMPLETE, a refused set-up); 2 usage error.
--stage S targets stage S deployed on AWS (region from --region, AWS_REGION or AWS_DEFAULT_REGION; the standard
credential chain); without it, status and backfill use the local cloud that \`dataharvest up\` runs.`;

/** status judges health, not completion: a batch on its way is no failure. */
const STATUS_EXIT_CODES = `
Exit codes: 0 every batch asked about is COMPLETE or in progress; 1 one is FAILED, REJECTED or LATE, has a refused file
or records that gave up (in an on-failure queue), or with --expected a scheduled client's files are LATE or missing;
2 usage error.`;

/** One line for commander's own errors, its typo suggestion ("\n(Did you mean …?)") included. */
const oneLine = (message: string) =>
  `dataharvest: ${message
    .replace(/^error: /, '')
    .trim()
    .replaceAll('\n', ' ')}\n`;

const required = (value: string | undefined, flag: string) => {
  if (!value) throw new UsageError(`${flag} is required`);
  return value;
};

/** The services whose port `up` takes, with the option that fixes it. */
const PORT_FLAGS = [
  ['postgres', 'pg-port'],
  ['s3', 's3-port'],
  ['dynamodb', 'dynamodb-port'],
  ['kinesis', 'kinesis-port'],
  ['sqs', 'sqs-port'],
] as const;

/** `--timeout` of the commands that wait (run, backfill --wait): a positive number of seconds. */
function seconds(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new UsageError('--timeout takes a number of seconds');
  return n;
}

const camel = (flag: string) => flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--${flag} takes a port number (1-65535), not ${value}`);
  return n;
}

/**
 * The dataharvest command line. Each command takes only its own options and imports its module when it runs, so
 * help and --version load no AWS SDK. `done` receives the command's exit code.
 */
export function program(done: (code: number) => void): Command {
  const cli = new Command('dataharvest')
    .description('DataHarvest: the local cloud, and batches on it or on a deployed stage')
    .version(pkg.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help')
    .helpCommand('help [command]', 'print help for a command')
    .showSuggestionAfterError(true)
    // A command's options follow its name, so `generate batch --date` is batch's, not generate's own --date.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(oneLine(message)) })
    .addHelpText('after', AFTER_HELP);
  const dataDir = (c: Command) => c.option('--data-dir <dir>', 'the local cloud data directory', DATA_DIR);
  const stage = (c: Command) => c.option('--stage <stage>', 'a stage deployed on AWS instead of the local cloud').option('--region <region>', 'the region of --stage');
  const act =
    <A extends unknown[]>(action: (...args: A) => Promise<number>) =>
    async (...args: A) =>
      done(await action(...args));

  const up = dataDir(cli.command('up').description('start the local cloud in the foreground; Ctrl-C stops it'))
    .option('--log-format <format>', 'text: one readable line per log entry; json: one JSON object per line, for machines', 'text')
    .option('--chunk-size <size>', CHUNK_SIZE_HELP);
  for (const [service, flag] of PORT_FLAGS) up.option(`--${flag} <port>`, `a fixed port for ${service} (default: a free one)`);
  up.option('--notifications', 'print each notification of the SNS topic (settled files, batch outcomes) as it arrives, one a line');
  up.option('--console-port <port>', 'a fixed port for the status console on 127.0.0.1 (default: a free one)');
  up.option('--clock <time>', 'start the local clock, which scheduled rules fire on, at this ISO instant with its offset, e.g. 2024-03-18T16:59:00+01:00');
  up.action(
    act(async (o: { dataDir: string; logFormat: string; chunkSize?: string } & Record<string, string | undefined>) => {
      if (o.logFormat !== 'text' && o.logFormat !== 'json') throw new UsageError(`--log-format takes text or json, not ${o.logFormat}`);
      const clock = o.clock === undefined ? undefined : (await import('./clock')).clockStart(o.clock);
      const ports = Object.fromEntries(PORT_FLAGS.flatMap(([service, flag]) => (o[camel(flag)] === undefined ? [] : [[service, port(o[camel(flag)]!, flag)]])));
      const consolePort = o.consolePort === undefined ? undefined : port(o.consolePort, 'console-port');
      return (await import('./up')).up({
        dataDir: o.dataDir,
        ports,
        logFormat: o.logFormat,
        notifications: Boolean(o.notifications),
        parameters: chunkSizeParameters(o.chunkSize),
        consolePort,
        clock,
      });
    }),
  );

  dataDir(
    cli
      .command('logs')
      .description("the local cloud's function logs as `up` prints them (from DIR/cloud.log, which up and run write)")
      .option('--function <name>', 'only the functions whose name contains this, e.g. tax')
      .option('--follow', 'keep printing new lines until Ctrl-C', false)
      .option('--json', 'print one JSON object, {"logs":[…]}, each entry as logged (with --follow: one entry per line)', false)
      .addHelpText('after', '\nExit codes: 0 printed (or --follow stopped by Ctrl-C); 1 no logs in the data dir; 2 usage error.'),
  ).action(act(async (o: { function?: string; follow: boolean; json: boolean; dataDir: string }) => (await import('./logs')).logs(o)));

  dataDir(
    cli
      .command('doctor')
      .description('check what the local cloud needs (Node, Java, the data dir for postgres, ports, packaged services), one line each')
      .option('--json', 'print one JSON object, {"ok":…,"findings":[{"check","level","message"}]}', false)
      .addHelpText('after', '\nEach finding is ok, warn or fail. Exit codes: 0 nothing failed; 1 something failed; 2 usage error.'),
  ).action(act(async (o: { json: boolean; dataDir: string }) => (await import('./doctor')).doctor(o)));

  dataDir(cli.command('reset').description("remove the local cloud's state from its data directory; refused while a cloud runs on it")).action(
    act(async (o: { dataDir: string }) => (await import('./reset')).reset(o.dataDir)),
  );

  dataDir(
    cli
      .command('upload')
      .description('upload files to incoming/<client>/ of the running local cloud')
      .argument('<files...>', 'CSV files, or directories of them')
      .option('--client <id>', 'the client the files belong to (required)'),
  ).action(
    act(async (paths: string[], o: { client?: string; dataDir: string }) => {
      const [{ ingestBucket, runningCloud }, { checkNames, expandInputs }, { formatBytes, uploadFile }] = await Promise.all([import('./connection'), import('./inputs'), import('./upload')]);
      const client = required(o.client, '--client ID');
      const files = expandInputs(paths);
      checkNames(client, files);
      const { deployment, aws } = runningCloud(o.dataDir);
      for (const path of files) {
        const u = await uploadFile(aws.s3, ingestBucket(deployment), client, path, (l) => process.stderr.write(`${l}\n`));
        process.stdout.write(`uploaded ${u.key} (${formatBytes(u.bytes)})\n`);
      }
      return 0;
    }),
  );

  dataDir(
    stage(
      cli
        .command('status')
        .description('how batches are doing, from the metastore')
        .option('--client <id>', "one client's batches")
        .option('--date <yyyymmdd>', 'one batch date', dateOption('--date'))
        .option('--clients', "every client's progress, from the client tracking table", false)
        .option('--expected', "every scheduled client's owed, received, late and missing files for a business day (--date; default today in its zone)", false)
        .option('--json', 'print one JSON object', false)
        .addHelpText('after', STATUS_EXIT_CODES),
    ),
  ).action(
    act(async (o: { client?: string; date?: string; clients: boolean; expected: boolean; json: boolean; stage?: string; region?: string; dataDir: string }) => {
      if (o.expected) {
        const [{ onTarget }, { statusExpected, packagedSchedules }, { cloudNow }] = await Promise.all([import('./deployed'), import('./expected'), import('./clock')]);
        const now = await cloudNow(o.dataDir, o.stage);
        return onTarget(o, (on) => statusExpected(on, o, packagedSchedules(), now));
      }
      if (o.clients) {
        const [{ onTarget }, { statusClients }] = await Promise.all([import('./deployed'), import('./status-clients')]);
        return onTarget(o, (on) => statusClients(on, o));
      }
      const [{ onTarget }, { status }] = await Promise.all([import('./deployed'), import('./status')]);
      return onTarget(o, (on) => status(on, o));
    }),
  );

  dataDir(
    cli
      .command('run')
      .description('a local cloud for the command: upload, wait for the batch to be COMPLETE or FAILED, then stop')
      .argument('<paths...>', 'CSV files, or directories of them')
      .option('--client <id>', 'the client the files belong to (required)')
      .option('--json', 'print the report as one JSON object', false)
      .option('--timeout <seconds>', 'how long to wait for the batch', '300')
      .option('--chunk-size <size>', CHUNK_SIZE_HELP),
  ).action(
    act(async (paths: string[], o: { client?: string; json: boolean; timeout: string; dataDir: string; chunkSize?: string }) => {
      const client = required(o.client, '--client ID');
      const timeoutSeconds = seconds(o.timeout);
      const parameters = chunkSizeParameters(o.chunkSize);
      return (await import('./run')).run({ paths, client, json: o.json, timeoutSeconds, dataDir: o.dataDir, parameters });
    }),
  );

  // `generate --type` writes one file; `generate batch` four that fit together (positional: after `batch`, --date
  // and --seed are the batch's).
  const generate = cli
    .command('generate')
    .description('a seeded, valid file of N rows; `generate batch`: the four files of a batch that passes data quality')
    .enablePositionalOptions()
    .helpCommand('help [command]', 'print help for a command')
    .option('--type <type>', 'the file type (required)')
    .option('--rows <n>', 'how many rows (required)')
    .option('--date <yyyymmdd>', 'the batch date of the file name', dateOption('--date'), '20200130')
    .option('--seed <s>', 'the seed', '1')
    .option('--out <file>', 'where to write it (default <type>_<date>.csv)')
    .action(act(async (o: { type?: string; rows?: string; date: string; seed: string; out?: string }) => (await import('./generate')).generateCommand(o)));
  generate
    .command('batch')
    .description("a client's accounts, clients, portfolios and transactions files of one date, related: one account and client per portfolio")
    .option('--client <id>', 'the client (required)')
    .option('--date <yyyymmdd>', 'the batch date (required)', dateOption('--date'))
    .option('--portfolios <n>', 'how many portfolios, accounts and clients (required)')
    .option('--transactions-per-account <k>', 'transactions per account, on average', '10')
    .option('--orphans <percent>', 'the share of transactions on an account the batch does not have, e.g. 2% (above 1% fails data quality by default)', '0%')
    .option('--seed <s>', 'the seed (with the client: the references; with the date: the figures)', '1')
    .option('--out <dir>', 'the folder for the four files (default <client>/<date>)')
    .option('--json', 'print one JSON object, {"client","batch_date","out","files":[{"type","path","rows"}],"orphans"}', false)
    .action(
      act(async (o: { client?: string; date?: string; portfolios?: string; transactionsPerAccount: string; orphans: string; seed: string; out?: string; json: boolean }) =>
        (await import('./generate')).generateBatchCommand(o),
      ),
    );

  cli
    .command('new')
    .description('scaffold a new part of the project')
    .command('transformer')
    .description('scaffold a transformer service under services/<name>')
    .argument('<name>', 'the transformer name')
    .action(act(async (name: string) => (await import('./scaffold')).newTransformer(name)));

  dataDir(
    stage(
      cli
        .command('backfill')
        .description('run a transformer over batches already related')
        .argument('<name>', 'the transformer name')
        .option('--client <id>', "only this client's batches")
        .option('--since <yyyymmdd>', 'only batches of this date or later', dateOption('--since'))
        .option('--wait', 'wait until every queued batch is COMPLETE again and print its events; exit 1 unless all completed', false)
        .option('--timeout <seconds>', 'how long --wait waits', '300'),
    ),
  ).action(
    act(async (name: string, o: { client?: string; since?: string; wait: boolean; timeout: string; stage?: string; region?: string; dataDir: string }) => {
      const timeoutSeconds = seconds(o.timeout);
      const [{ onTarget }, { backfill }] = await Promise.all([import('./deployed'), import('./backfill')]);
      return onTarget(o, ({ metastore }) => backfill(metastore, { name, client: o.client, since: o.since, waitSeconds: o.wait ? timeoutSeconds : undefined }));
    }),
  );

  dataDir(
    cli
      .command('deploy')
      .description('package one service and deploy it into the local cloud that `up` runs, without a restart')
      .argument('<service>', 'a service of serverless-compose.yml, e.g. a newly scaffolded transformer')
      .option('--json', 'print one JSON object: the service and its functions', false),
  ).action(act(async (service: string, o: { dataDir: string; json: boolean }) => (await import('./deploy')).deploy(service, o)));

  dataDir(
    cli
      .command('clock')
      .description("print the running local cloud's clock, which scheduled rules fire on; set it when a time is given")
      .argument('[time]', 'an ISO instant with its offset, e.g. 2024-03-18T17:00:00+01:00: rules whose firing it passes fire at once')
      .option('--json', 'print one JSON object, {"now":…}', false)
      .addHelpText('after', '\nExit codes: 0 printed (or set); 1 no local cloud runs on the data dir; 2 usage error (a time without an offset).'),
  ).action(act(async (time: string | undefined, o: { dataDir: string; json: boolean }) => (await import('./clock')).clock(time, o)));
  // Positional: after `discard`, --json and --data-dir are discard's. With an action of its own, failures has a help
  // command only if asked: `failures help discard` as `new help transformer`.
  const failuresCommand = dataDir(
    stage(
      cli
        .command('failures')
        .description('what sits in every on-failure queue, with its batch and reason')
        .option('--json', 'print one JSON object', false)
        .enablePositionalOptions()
        .helpCommand('help [command]', 'print help for a command'),
    ),
  );
  failuresCommand.action(
    act(async (o: { json: boolean; stage?: string; region?: string; dataDir: string }) => {
      const [{ onTarget }, { failures }] = await Promise.all([import('./deployed'), import('./failures')]);
      return onTarget(o, (on) => failures(on, o));
    }),
  );
  dataDir(
    stage(
      failuresCommand
        .command('discard')
        .description('remove on-failure messages that need no redrive, recording each in the metastore')
        .option('--id <id>', 'one message, as `failures` lists it, whatever it is about')
        .option('--resolved', 'every message whose batch has moved on since (COMPLETE at a later generation, or its file settled by a later upload)', false)
        .option('--json', 'print one JSON object', false),
    ),
  ).action(
    act(async (o: { id?: string; resolved: boolean; json: boolean; stage?: string; region?: string; dataDir: string }) => {
      if (!o.resolved === !o.id) throw new UsageError('failures discard takes --id ID (from `dataharvest failures`) or --resolved');
      const [{ onTarget }, { discard }] = await Promise.all([import('./deployed'), import('./discard')]);
      return onTarget(o, (on) => discard(on, o));
    }),
  );

  dataDir(
    stage(
      cli
        .command('forget')
        .description('erase a person (GDPR art. 17) from every table, archived file and report, and record it')
        .option('--client-reference <uuid>', "the person's client_reference")
        .option('--timeout <seconds>', 'how long to wait for the privacy service', '300')
        .option('--json', 'print one JSON object', false),
    ),
  ).action(
    act(async (o: { clientReference?: string; timeout: string; json: boolean; stage?: string; region?: string; dataDir: string }) => {
      const timeoutSeconds = Number(o.timeout);
      if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) throw new UsageError('--timeout takes a whole number of seconds');
      const [{ onTarget }, { checkedReference, forget }] = await Promise.all([import('./deployed'), import('./forget')]);
      const clientReference = checkedReference(o.clientReference);
      return onTarget(o, (on) => forget(on, { clientReference, json: o.json, timeoutSeconds }));
    }),
  );

  dataDir(
    stage(
      cli
        .command('redrive')
        .description('after a fix, run the failed step again for the batch and remove its on-failure messages')
        .option('--id <id>', 'one message, as `failures` lists it')
        .option('--all', 'every message of every on-failure queue', false),
    ),
  ).action(
    act(async (o: { id?: string; all: boolean; stage?: string; region?: string; dataDir: string }) => {
      const [{ onTarget }, { checkRedrive, redrive }] = await Promise.all([import('./deployed'), import('./failures')]);
      checkRedrive(o);
      return onTarget(o, (on) => redrive(on, o));
    }),
  );

  // What was published, and what was refused: `events` reads the output stream, `reports` the metastore and bucket.
  dataDir(
    stage(
      cli
        .command('events')
        .description('the portfolio events published for a client, from the output stream (the highest version per portfolio)')
        .option('--client <id>', 'the client (required)')
        .option('--date <yyyymmdd>', 'one batch date', dateOption('--date'))
        .option('--all-versions', 'every version of each portfolio, not only the highest', false)
        .option('--follow', 'keep reading new events until Ctrl-C (with --json: one event per line)', false)
        .option('--json', 'print one JSON object, {"events":[…]}, each event as published', false)
        .addHelpText('after', '\nExit codes: 0 events found (or --follow stopped by Ctrl-C); 1 none match; 2 usage error.'),
    ),
  ).action(
    act(async (o: { client?: string; date?: string; allVersions: boolean; follow: boolean; json: boolean; stage?: string; region?: string; dataDir: string }) => {
      const client = required(o.client, '--client ID');
      const [{ onTarget }, { events }] = await Promise.all([import('./deployed'), import('./events')]);
      return onTarget(o, (on) => events(on, { client, date: o.date, allVersions: o.allVersions, follow: o.follow, json: o.json }));
    }),
  );
  dataDir(
    stage(
      cli
        .command('reports')
        .description("a client's refused and leniently loaded files: their errors, quarantined copy and full report")
        .option('--client <id>', 'the client (required)')
        .option('--date <yyyymmdd>', 'one batch date', dateOption('--date'))
        .option('--show <file>', "print one file's full report from the ingest bucket (an object key or a file name)")
        .option('--json', 'print one JSON object', false)
        .addHelpText('after', '\nExit codes: 0 nothing refused (or --show printed the report); 1 a file was refused (or --show found no report); 2 usage error.'),
    ),
  ).action(
    act(async (o: { client?: string; date?: string; show?: string; json: boolean; stage?: string; region?: string; dataDir: string }) => {
      const client = required(o.client, '--client ID');
      const [{ onTarget }, { reports }] = await Promise.all([import('./deployed'), import('./reports')]);
      return onTarget(o, (on) => reports(on, { client, date: o.date, json: o.json, show: o.show }));
    }),
  );
  // lineage: from a published event back to the bytes it came from (local/src/cli/lineage.ts).
  dataDir(
    stage(
      cli
        .command('lineage')
        .description('the chain from a published event back to the bytes: files, their lines, step and rule versions, stage history')
        .option('--event-id <id>', "the event's event_id")
        .option('--client <id>', "with --date and --portfolio: the highest version of that portfolio's event")
        .option('--date <yyyymmdd>', 'the batch date', dateOption('--date'))
        .option('--portfolio <reference>', 'the portfolio reference')
        .option('--json', 'print one JSON object', false)
        .addHelpText('after', "\nExit codes: 0 the event was found; 1 it was not (never published, or past the stream's retention); 2 usage error."),
    ),
  ).action(
    act(async (o: { eventId?: string; client?: string; date?: string; portfolio?: string; json: boolean; stage?: string; region?: string; dataDir: string }) => {
      const byPortfolio = o.client !== undefined || o.date !== undefined || o.portfolio !== undefined;
      if (o.eventId !== undefined && byPortfolio) throw new UsageError('--event-id or --client --date --portfolio, not both');
      if (o.eventId === undefined && !(o.client && o.date && o.portfolio)) throw new UsageError('--event-id ID, or --client ID --date YYYYMMDD --portfolio REF, is required');
      const query = o.eventId !== undefined ? { eventId: o.eventId } : { client: o.client!, date: o.date!, portfolio: o.portfolio! };
      const [{ onTarget }, { lineage }] = await Promise.all([import('./deployed'), import('./lineage')]);
      return onTarget(o, (on) => lineage(on, query, { json: o.json }));
    }),
  );
  return cli;
}
