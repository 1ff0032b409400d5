import { parseArgs } from 'node:util';
import { CloudError } from '../cloud/errors';
import { ingestBucket, runningCloud } from './connection';
import { onTarget } from './deployed';
import { UsageError } from './errors';
import { expandInputs } from './inputs';
import { run } from './run';
import { status } from './status';
import { up } from './up';
import { formatBytes, uploadFile } from './upload';

const USAGE = `usage: dataharvest <command>
  up [--data-dir DIR]                                    start the local cloud in the foreground
  upload <files…> --client ID [--data-dir DIR]          upload to incoming/<client>/ of the running local cloud
  status [--client ID] [--date YYYYMMDD] [--json] [--stage S [--region R]]
                                                         how batches are doing, from the metastore
  run <files or dir…> --client ID [--json] [--timeout S] [--data-dir DIR]
                                                         local cloud + upload + wait for the batch, then stop
  generate --type TYPE --rows N [--seed S] [--out FILE]  a seeded, valid file of N rows
  new transformer <name>                                 scaffold a transformer service
  backfill <name> [--client ID] [--since YYYYMMDD] [--stage S [--region R]]
                                                         run a transformer over batches already related
--stage S targets stage S deployed on AWS (region from --region, AWS_REGION or AWS_DEFAULT_REGION; the standard
credential chain); without it, status and backfill use the running local cloud`;

const DATA_DIR = '.dataharvest';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      client: { type: 'string' },
      date: { type: 'string' },
      json: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '300' },
      'data-dir': { type: 'string', default: DATA_DIR },
      type: { type: 'string' },
      rows: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      since: { type: 'string' },
      stage: { type: 'string' },
      region: { type: 'string' },
    },
  });
  const dataDir = values['data-dir'];
  const target = { stage: values.stage, region: values.region, dataDir };
  const client = () => {
    if (!values.client) throw new UsageError('--client ID is required');
    return values.client;
  };
  switch (command) {
    case 'up':
      return up(dataDir);
    case 'run': {
      const timeoutSeconds = Number(values.timeout);
      if (!(timeoutSeconds > 0)) throw new UsageError('--timeout takes a number of seconds');
      return run({ paths: positionals, client: client(), json: values.json, timeoutSeconds, dataDir });
    }
    case 'upload': {
      const deployment = runningCloud(dataDir);
      for (const path of expandInputs(positionals)) {
        const u = await uploadFile(ingestBucket(deployment), client(), path, (l) => process.stderr.write(`${l}\n`));
        process.stdout.write(`uploaded ${u.key} (${formatBytes(u.bytes)})\n`);
      }
      return 0;
    }
    case 'status':
      return onTarget(target, () => status({ client: values.client, date: values.date, json: values.json }));
    case 'generate': {
      const { generateCommand } = await import('./generate');
      return generateCommand(values);
    }
    case 'new': {
      const { newTransformer } = await import('./scaffold');
      if (positionals[0] !== 'transformer' || !positionals[1]) throw new UsageError('usage: dataharvest new transformer <name>');
      return newTransformer(positionals[1]);
    }
    case 'backfill': {
      const { backfill } = await import('./backfill');
      const name = positionals[0];
      if (!name) throw new UsageError('usage: dataharvest backfill <name> [--client ID] [--since YYYYMMDD] [--stage S [--region R]]');
      return onTarget(target, () => backfill({ name, client: values.client, since: values.since }));
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const badArgs = error instanceof TypeError && String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS');
    if (error instanceof UsageError || badArgs) {
      process.stderr.write(`dataharvest: ${(error as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    if (error instanceof CloudError) {
      process.stderr.write(`dataharvest: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  },
);
