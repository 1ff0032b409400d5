import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { FILE_TYPES } from '@dataharvest/events/batch';
import { startCloud, type LocalCloud } from '../local/src/cloud/index';
import { announceCloud, type Connection, connectCloud, eventsStream, ingestBucket } from '../local/src/cli/connection';
import { latestForBatch, readOutputEvents } from '../local/src/cli/output-events';
import { generate } from '../local/src/generate/index';

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

/** The packaged relationship service with one more per-client override, as a deploy with that param would package it. */
function relationshipWithOverride(overrides: object): string {
  const dir = join(scratch, 'relationship');
  cpSync('services/relationship/.serverless', join(dir, '.serverless'), { recursive: true });
  const file = join(dir, '.serverless', 'cloudformation-template-update-stack.json');
  const template = JSON.parse(readFileSync(file, 'utf8'));
  const fn = Object.values(template.Resources as Record<string, { Type: string; Properties: { Environment?: { Variables?: Record<string, string> } } }>).find(
    (r) => r.Properties?.Environment?.Variables?.QUALITY_OVERRIDES !== undefined,
  );
  if (!fn) throw new Error('the packaged relationship function has no QUALITY_OVERRIDES');
  fn.Properties.Environment!.Variables!.QUALITY_OVERRIDES = JSON.stringify(overrides);
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
    cloud = await startCloud();
    on = connectCloud(cloud);
  });
  afterAll(async () => {
    await cloud?.stop();
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
    await cloud.deploy(relationshipWithOverride({ LENIENT_CO: override }));
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
});
