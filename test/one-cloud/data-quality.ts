import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type Batch, FILE_TYPES } from '@dataharvest/events/batch';
import pg from 'pg';
import type { LocalCloud } from '../../local/src/cloud/index';
import { sharedCloud } from '../support/shared-cloud';
import { announceCloud, type Connection, connectCloud, eventsStream, ingestBucket } from '../../local/src/cli/connection';
import { latestForBatch, readOutputEvents } from '../../local/src/cli/output-events';
import { generate } from '../../local/src/generate/index';
import { volumeDdl } from '../../services/relationship/src/volume-sql';
import { cli } from '../support/cli';
import { type ControlChanges, controlText } from '../support/control';
import { until } from '../support/until';

const DATE = '20240315';
const scratch = mkdtempSync(join(tmpdir(), 'dataharvest-quality-'));

/**
 * A generated batch: `linked` accounts, clients and portfolios that all belong together, and transactions spread over
 * `referenced` accounts, so those beyond `linked` name unknown accounts. Returns its folder and its orphan count.
 */
async function batchFiles(name: string, linked: number, referenced: number, transactions: number): Promise<{ dir: string; orphans: number }> {
  const dir = join(scratch, name);
  for (const type of FILE_TYPES) {
    const rows = type === 'transactions' ? transactions : linked;
    await generate({ type, rows, seed: 7, accounts: type === 'transactions' ? referenced : undefined, out: join(dir, `${type}_${DATE}.csv`) });
  }
  return { dir, orphans: orphanCount(dir, linked) };
}

/** Transactions of a batch folder naming an account beyond the `linked` ones (account k is 10000000 + k). */
const orphanCount = (dir: string, linked: number) =>
  readFileSync(join(dir, `transactions_${DATE}.csv`), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .filter((line) => Number(line.split(',')[1]) > 10_000_000 + linked).length;

async function waitFor(on: Connection, client: string, stages: string[], timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const batch = await on.metastore.getBatch(client, DATE);
    if (batch && stages.includes(batch.stage)) return batch;
    if (Date.now() > until) throw new Error(`batch ${client}/${DATE} stuck at ${batch?.stage}, waiting for ${stages.join(' or ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The packaged relationship service with some of its variables changed, as a deploy with those params would package it. */
function relationshipWith(variables: Record<string, object>): string {
  const dir = mkdtempSync(join(scratch, 'relationship-'));
  cpSync('services/relationship/.serverless', join(dir, '.serverless'), { recursive: true });
  const file = join(dir, '.serverless', 'cloudformation-template-update-stack.json');
  const template = JSON.parse(readFileSync(file, 'utf8'));
  const fn = Object.values(template.Resources as Record<string, { Type: string; Properties: { Environment?: { Variables?: Record<string, string> } } }>).find(
    (r) => r.Properties?.Environment?.Variables?.QUALITY_OVERRIDES !== undefined,
  );
  if (!fn) throw new Error('the packaged relationship function has no QUALITY_OVERRIDES');
  for (const [name, value] of Object.entries(variables)) fn.Properties.Environment!.Variables![name] = JSON.stringify(value);
  writeFileSync(file, JSON.stringify(template));
  return dir;
}

describe('data-quality rules through the local cloud, as packaged', () => {
  let cloud: LocalCloud;
  let on: Connection;
  let heavy: { dir: string; orphans: number };
  const uploadBatch = async (dir: string, client: string) => {
    for (const f of readdirSync(dir)) await on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: `incoming/${client}/${f}`, Body: readFileSync(join(dir, f)) }));
  };
  const eventsOf = async (client: string) => latestForBatch(await readOutputEvents(on.aws.kinesis, eventsStream(cloud)), client, DATE);
  const rule = (quality: { rules: Array<{ rule: string }> } | undefined, name: string) => quality?.rules.find((r) => r.rule === name);

  beforeAll(async () => {
    heavy = await batchFiles('orphans', 60, 100, 1000);
    cloud = await sharedCloud();
    on = connectCloud(cloud);
  });
  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('fails a batch with 40% of its transactions on unknown accounts: FAILED, the rule and counts named, no events', async () => {
    expect(heavy.orphans / 1000).toBeGreaterThan(0.3);
    await uploadBatch(heavy.dir, 'ORPHANS_CO');
    const batch = await waitFor(on, 'ORPHANS_CO', ['FAILED', 'COMPLETE']);
    await cloud.idle();
    expect(batch.stage).toBe('FAILED');
    expect(batch.quality?.outcome).toBe('FAIL');
    expect(rule(batch.quality, 'transaction_without_account')).toEqual({
      rule: 'transaction_without_account',
      severity: 'error',
      count: heavy.orphans,
      total: 1000,
      ratio: heavy.orphans / 1000,
      threshold: 0.01,
      outcome: 'FAIL',
    });
    expect(batch.data_quality?.transaction_without_account).toBe(heavy.orphans);
    const item = batch as typeof batch & { failure?: { step: string; reason: string } };
    expect(item.failure).toMatchObject({ step: 'relationship', reason: expect.stringContaining(`transaction_without_account ${heavy.orphans} of 1000 rows`) });
    expect(batch.relation_established).toBe(false);
    expect(Object.keys(batch.transformers)).toEqual([]);
    expect(await eventsOf('ORPHANS_CO')).toEqual([]);
  });

  it('completes a batch with one orphan among thousands and reports it as a warning', async () => {
    const few = await batchFiles('one-orphan', 300, 300, 3000);
    appendFileSync(join(few.dir, `transactions_${DATE}.csv`), '3001,99999999,0a1b2c3d4e,12.34,DEPOSIT\n');
    await uploadBatch(few.dir, 'ONE_ORPHAN_CO');
    const batch = await waitFor(on, 'ONE_ORPHAN_CO', ['FAILED', 'COMPLETE']);
    expect(batch.stage).toBe('COMPLETE');
    expect(batch.quality?.outcome).toBe('WARN');
    expect(rule(batch.quality, 'transaction_without_account')).toMatchObject({ count: 1, total: 3001, outcome: 'WARN' });
    expect(batch.quality?.rules.filter((r) => r.outcome !== 'PASS').map((r) => r.rule)).toEqual(['transaction_without_account']);
    expect(await eventsOf('ONE_ORPHAN_CO')).toHaveLength(300);
  });

  it('lets the 40% batch through under a deployed per-client override and records it as OVERRIDDEN', async () => {
    const override = { name: 'CHG-42 migration backlog', rules: { transaction_without_account: { threshold: 0.5 } } };
    await cloud.deploy(relationshipWith({ QUALITY_OVERRIDES: { LENIENT_CO: override } }));
    await uploadBatch(heavy.dir, 'LENIENT_CO');
    const batch = await waitFor(on, 'LENIENT_CO', ['FAILED', 'COMPLETE']);
    expect(batch.stage).toBe('COMPLETE');
    expect(batch.quality).toMatchObject({ outcome: 'OVERRIDDEN', override: 'CHG-42 migration backlog' });
    expect(rule(batch.quality, 'transaction_without_account')).toMatchObject({ count: heavy.orphans, threshold: 0.5, outcome: 'OVERRIDDEN' });
    expect(await eventsOf('LENIENT_CO')).toHaveLength(60);
    // Another client is still held to the defaults.
    await uploadBatch(heavy.dir, 'STRICT_CO');
    expect((await waitFor(on, 'STRICT_CO', ['FAILED', 'COMPLETE'])).stage).toBe('FAILED');
  });

  describe('dataharvest run on a batch that fails its data-quality rules', () => {
    it('shows the failed rule in its human view and exits 1', async () => {
      // The run uses this cloud as it uses the one `dataharvest up` runs on its data dir: no cloud of its own to start.
      const dataDir = join(scratch, 'run-data');
      mkdirSync(dataDir);
      const forget = announceCloud(dataDir, cloud);
      const out = await promisify(execFile)('node', ['local/bin/dataharvest.mjs', 'run', heavy.dir, '--client', 'RUN_CO', '--data-dir', dataDir], { timeout: 240_000 })
        .then(
          () => undefined,
          (error: { code: number; stdout: string }) => error,
        )
        .finally(forget);
      expect(out?.code).toBe(1);
      expect(out?.stdout).toContain('data quality FAIL');
      expect(out?.stdout).toMatch(new RegExp(`transaction_without_account +FAIL +${heavy.orphans} of 1000 rows`));
      expect(out?.stdout).toContain('stage FAILED');
    });
  });
  describe('control totals (docs/persistence.md) and volume anomalies', () => {
    const SAMPLE = 'examples/sample-batch';
    const DAY = '20200130';
    const put = (client: string, name: string, body: string | Buffer) => on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(cloud), Key: `incoming/${client}/${name}`, Body: body }));
    const sendSample = async (client: string) => {
      for (const f of readdirSync(SAMPLE)) await put(client, f, readFileSync(join(SAMPLE, f)));
    };
    const sendControl = (client: string, changes?: ControlChanges) => put(client, `control_${DAY}.csv`, controlText(SAMPLE, changes));
    const settled = (client: string, stages: string[], what: (b: Batch) => boolean = () => true) =>
      until(`${client} in ${stages.join(' or ')}`, async () => {
        const b = await on.metastore.getBatch(client, DAY);
        return b && stages.includes(b.stage) && what(b) ? b : undefined;
      });
    const reconciled = (b: Batch) => Object.fromEntries(FILE_TYPES.map((t) => [t, b.files[t]?.control?.outcome]));

    const dataDir = join(scratch, 'control-data');
    let forget: () => void;
    beforeAll(async () => {
      mkdirSync(dataDir);
      forget = announceCloud(dataDir, cloud);
    });
    afterAll(() => forget?.());

    it('completes a batch whose files match the control file sent before them; its first day passes the volume rules with a note', async () => {
      await sendControl('CONTROL_FIRST_CO');
      await sendSample('CONTROL_FIRST_CO');
      const batch = await settled('CONTROL_FIRST_CO', ['COMPLETE', 'FAILED', 'REJECTED']);
      expect(batch.stage).toBe('COMPLETE');
      expect(batch.control).toMatchObject({ status: 'RECEIVED', key: `incoming/CONTROL_FIRST_CO/control_${DAY}.csv` });
      expect(reconciled(batch)).toEqual({ accounts: 'MATCH', clients: 'MATCH', portfolios: 'MATCH', transactions: 'MATCH' });
      expect(batch.files.accounts?.money_sum).toBe('15733.56');
      expect(rule(batch.quality, 'transactions_row_volume')).toMatchObject({ outcome: 'PASS', history: 0, note: 'too little history: 0 of the 10 earlier batches it needs' });
      const status = await cli('status', '--client', 'CONTROL_FIRST_CO', '--data-dir', dataDir);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`control control_${DAY}.csv: accounts MATCH, clients MATCH, portfolios MATCH, transactions MATCH`);
      expect(status.stdout).toContain('volume rules not judged: too little history: 0 of the 10 earlier batches it needs');
    });

    it('refuses a file whose row count differs from the control file sent first, naming both figures', async () => {
      await sendControl('ROWS_OFF_CO', { transactions: { rows: 3 } });
      await sendSample('ROWS_OFF_CO');
      const batch = await settled('ROWS_OFF_CO', ['REJECTED'], (b) => FILE_TYPES.every((t) => b.files[t]?.status !== 'LOADING' && b.files[t]));
      await cloud.idle();
      const reason = 'does not match its control totals: rows expected 3, found 2';
      expect(batch.files.transactions).toMatchObject({ status: 'REJECTED', reason, errors: [{ line: 1, reason }], control: { outcome: 'MISMATCH' } });
      expect(batch.transaction_persisted).toBe(false);
      expect((await on.metastore.getBatch('ROWS_OFF_CO', DAY))?.stage).toBe('REJECTED');
      const reports = await cli('reports', '--client', 'ROWS_OFF_CO', '--json', '--data-dir', dataDir);
      expect(JSON.parse(reports.stdout).reports).toEqual([expect.objectContaining({ file_name: `transactions_${DAY}.csv`, reason, copy: `quarantine/ROWS_OFF_CO/transactions_${DAY}.csv` })]);
    });

    it('fails a day with a tenth of the trailing median transactions under the default volume rules', async () => {
      // Twenty earlier business days of the client, as the relationship step records them: ten times today's transactions.
      const db = new pg.Client({ connectionString: cloud.postgresUrl });
      await db.connect();
      try {
        for (const statement of volumeDdl) await db.query(statement);
        for (let day = 1; day <= 20; day++) {
          const date = `2020-01-${String(day).padStart(2, '0')}`;
          for (const [type, rows] of [
            ['accounts', 2],
            ['clients', 2],
            ['portfolios', 2],
            ['transactions', 20],
          ] as const)
            await db.query('INSERT INTO batch_volumes VALUES ($1, $2, $3, $4, $5)', ['QUIET_DAY_CO', date, type, rows, type === 'transactions' ? 42104.4 : 15733.56]);
        }
      } finally {
        await db.end();
      }
      await sendSample('QUIET_DAY_CO');
      const batch = await settled('QUIET_DAY_CO', ['COMPLETE', 'FAILED']);
      expect(batch.stage).toBe('FAILED');
      expect(rule(batch.quality, 'transactions_row_volume')).toMatchObject({ severity: 'error', value: 2, median: 20, history: 20, outcome: 'FAIL' });
      expect(rule(batch.quality, 'accounts_row_volume')).toMatchObject({ outcome: 'PASS' });
      expect(batch.failure?.reason).toBe('data-quality rules failed: transactions_row_volume 2 outside 10..30 (median 20 of the last 20 batches)');
    });

    describe('for clients that owe a control file', () => {
      // Their delivery schedules owe one (shared/delivery-schedules.yml), deployed with the relationship step.
      beforeAll(() => cloud.deploy(relationshipWith({ DELIVERY_SCHEDULES: { clients: { OWES_CO: { control_file: true }, MONEY_OFF_CO: { control_file: true } } } })));

      it('does not relate a batch whose owed control file is missing, and completes it once a matching one arrives after its files', async () => {
        await sendSample('OWES_CO');
        await settled('OWES_CO', ['PERSISTED']);
        await cloud.idle();
        const waiting = (await on.metastore.getBatch('OWES_CO', DAY))!;
        expect(waiting).toMatchObject({ stage: 'PERSISTED', relation_established: false });
        expect(waiting.transformers).toEqual({});
        await sendControl('OWES_CO');
        const batch = await settled('OWES_CO', ['COMPLETE', 'FAILED', 'REJECTED']);
        expect(batch.stage).toBe('COMPLETE');
        expect(reconciled(batch)).toEqual({ accounts: 'MATCH', clients: 'MATCH', portfolios: 'MATCH', transactions: 'MATCH' });
      });

      it("refuses an owed client's loaded file once a control file with another money sum arrives after it", async () => {
        await sendSample('MONEY_OFF_CO');
        await settled('MONEY_OFF_CO', ['PERSISTED']);
        await sendControl('MONEY_OFF_CO', { accounts: { money_sum: '15733.65' } });
        await settled('MONEY_OFF_CO', ['REJECTED']);
        await cloud.idle();
        const batch = (await on.metastore.getBatch('MONEY_OFF_CO', DAY))!;
        expect(batch.files.accounts).toMatchObject({ status: 'REJECTED', reason: 'does not match its control totals: money sum expected 15733.65, found 15733.56' });
        expect(reconciled(batch)).toEqual({ accounts: 'MISMATCH', clients: 'MATCH', portfolios: 'MATCH', transactions: 'MATCH' });
        expect(batch).toMatchObject({ stage: 'REJECTED', relation_established: false });
        const status = await cli('status', '--client', 'MONEY_OFF_CO', '--data-dir', dataDir);
        expect(status.code).toBe(1);
        expect(status.stdout).toContain('accounts REJECTED: does not match its control totals: money sum expected 15733.65, found 15733.56');
        expect(status.stdout).toContain(`control control_${DAY}.csv: accounts MISMATCH, clients MATCH`);
      });
    });
  });
});
