import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type Connection, connectCloud, ingestBucket } from '../../local/src/cli/connection';
import type { LocalCloud } from '../../local/src/cloud/index';
import { sharedCloud } from '../support/shared-cloud';
import { FRIDA, FRITZ } from '../support/chain';
import { lenientPersistence } from '../support/lenient';

const SAMPLE = 'examples/sample-batch';
const DATE = '20200130';
const sample = (type: string) => readFileSync(join(SAMPLE, `${type}_${DATE}.csv`), 'utf8');
/** Every personal value of the inputs: names, client references, account numbers. */
const PERSONAL = [FRIDA.client, FRITZ.client, FRIDA.account, FRITZ.account, 'Frida', 'Müller', 'Fritz', 'Maier'];
const mentions = (line: string) => PERSONAL.filter((v) => new RegExp(`(?<![\\p{L}\\p{N}])${v}(?![\\p{L}\\p{N}])`, 'iu').test(line));

/**
 * No personal value of the input reaches a log line, whatever happens to the files: every line every function, the
 * database (PostgreSQL's own log, under the cluster parameter group's logging settings) and the local cloud log during full runs of a good batch, a refused file, a lenient client's rejected rows, a
 * headerless clients file and a transformer failing on the data.
 */
describe('logs hold no personal data', () => {
  let cloud: LocalCloud;
  let on: Connection;
  const lines: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'dataharvest-privacy-logs-'));
  const upload = (client: string, type: string, body: string) =>
    on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(on.deployment), Key: `incoming/${client}/${type}_${DATE}.csv`, Body: body }));
  const uploadBatch = async (client: string, replace: Record<string, string> = {}) => {
    for (const type of ['accounts', 'clients', 'portfolios', 'transactions']) await upload(client, type, replace[type] ?? sample(type));
  };
  const settled = async (client: string, stages: string[]) => {
    for (let i = 0; i < 360; i++) {
      const batch = await on.metastore.getBatch(client, DATE);
      if (batch && stages.includes(batch.stage)) return batch.stage;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`batch ${client}/${DATE} did not settle`);
  };

  beforeAll(async () => {
    cloud = await sharedCloud();
    cloud.on('log', ({ line }) => lines.push(line));
    on = connectCloud(cloud);
    await cloud.deploy(lenientPersistence(scratch, 'PRIVACY_LENIENT_CO'));
  });
  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('in full runs of good, refused, lenient, headerless and failing batches', async () => {
    await uploadBatch('PRIVACY_GOOD_CO');
    // A name where the reference belongs, and a reference where the allowance belongs: the file is refused.
    await uploadBatch('PRIVACY_STRICT_CO', { clients: sample('clients').replace(`Müller,${FRIDA.client},801`, `Müller,Frida Müller,${FRIDA.client}`) });
    // Rows the lenient client's load keeps out: a name for an amount, an account number for a date-like keyword.
    await uploadBatch('PRIVACY_LENIENT_CO', { transactions: `${sample('transactions')}3,${FRIDA.account},x1,Frida,DEPOSIT\n4,${FRITZ.account},x2,1.00,${FRITZ.account}${'9'.repeat(40)}\n` });
    await uploadBatch('PRIVACY_HEADLESS_CO', { clients: sample('clients').split('\n').slice(1).join('\n') });
    // Two deposits whose sum overflows numeric(17,2): the transformers fail on the data.
    await uploadBatch('PRIVACY_HUGE_CO', {
      transactions: `record_id,accout_number,transaction_reference,amount,keyword\n1,${FRIDA.account},big1,999999999999999.99,DEPOSIT\n2,${FRIDA.account},big2,999999999999999.99,DEPOSIT\n`,
    });
    expect(await settled('PRIVACY_GOOD_CO', ['COMPLETE', 'FAILED', 'REJECTED'])).toBe('COMPLETE');
    expect(await settled('PRIVACY_STRICT_CO', ['REJECTED', 'FAILED', 'COMPLETE'])).toBe('REJECTED');
    expect(await settled('PRIVACY_LENIENT_CO', ['COMPLETE', 'FAILED', 'REJECTED'])).toBe('COMPLETE');
    expect(await settled('PRIVACY_HEADLESS_CO', ['REJECTED', 'FAILED', 'COMPLETE'])).toBe('REJECTED');
    expect(await settled('PRIVACY_HUGE_CO', ['FAILED', 'COMPLETE', 'REJECTED'])).toBe('FAILED');
    await cloud.idle();
    // The database logged the transformers' failure (its log reaches the cloud's as it is written), and, as on Aurora
    // (log_error_verbosity=terse, log_min_error_statement=panic), no DETAIL, CONTEXT or statement that could echo a value.
    const database = () => lines.filter((l) => l.startsWith('postgres: '));
    for (let i = 0; i < 40 && !database().some((l) => / ERROR: /.test(l)); i++) await new Promise((r) => setTimeout(r, 250));
    expect(database().filter((l) => / ERROR: /.test(l)).length).toBeGreaterThan(0);
    expect(database().filter((l) => / (DETAIL|CONTEXT|STATEMENT|HINT): /.test(l))).toEqual([]);
    // The runs were logged at all (functions' JSON lines among them), and none of the lines names anyone.
    expect(lines.filter((l) => l.includes('"level"')).length).toBeGreaterThan(20);
    expect(lines.flatMap((l) => mentions(l).map((v) => `${v} in: ${l}`))).toEqual([]);
  }, 240_000);
});
