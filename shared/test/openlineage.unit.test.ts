import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emit, LineageRun, lineageEmitter, qualityFacet, type RunEvent, rowCountFacet, runIdOf, schemaFacet, sourceFacet, table, versionFacet } from '../src/openlineage';
import { openLineageProblems } from '../../test/support/openlineage';

const batch = { client: 'EXT_CLIENT', batch_date: '20200130', generation: 2 };
const SHA = 'a'.repeat(64);

/** The events of one run of each kind the pipeline's steps make. */
async function runs(): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  const emit: Emit = async (e) => void events.push(e);
  const persisted = new LineageRun(emit, 'persistence', { client: batch.client, batch_date: batch.batch_date });
  const object = { namespace: 's3://ingest', name: 'incoming/EXT_CLIENT/accounts_20200130.csv' };
  await persisted.start([object]);
  await persisted.complete(
    [table('accounts', { facets: { schema: schemaFacet([{ name: 'record_id', type: 'record_id' }]) }, outputFacets: { outputStatistics: rowCountFacet(2) } })],
    [{ ...object, facets: { version: versionFacet(SHA), dataharvest_source: sourceFacet(SHA, 120) } }],
  );
  const related = new LineageRun(emit, 'relationship', batch);
  await related.start([table('accounts')]);
  await related.complete([table('portfolio_links')], [table('accounts', { inputFacets: { dataQualityAssertions: qualityFacet([{ assertion: 'orphans', success: true }]) } })]);
  const failed = new LineageRun(emit, 'deposit', batch);
  await failed.start([table('transactions')]);
  await failed.fail('deposit: numeric field overflow');
  await failed.complete([]); // a run ends once
  await new LineageRun(emit, 'tax', batch).complete([]); // never started: nothing
  return events;
}

describe('OpenLineage run events', () => {
  it('validate against the published OpenLineage 2-0-2 schema, facets included', async () => {
    const events = await runs();
    expect(events.map((e) => `${e.job.name} ${e.eventType}`)).toEqual(['persistence START', 'persistence COMPLETE', 'relationship START', 'relationship COMPLETE', 'deposit START', 'deposit FAIL']);
    expect(openLineageProblems(events)).toEqual([]);
    expect(events[1]!.inputs[0]!.facets).toMatchObject({ version: { datasetVersion: SHA }, dataharvest_source: { sha256: SHA, bytes: 120 } });
    expect(new Set(events.slice(0, 2).map((e) => e.run.runId)).size).toBe(1);
  });

  it('ends in one invocation a run another started, under a run id that follows from a name', async () => {
    const events: RunEvent[] = [];
    const emit: Emit = async (e) => void events.push(e);
    const object = { namespace: 's3://ingest', name: 'incoming/EXT_CLIENT/transactions_20200130.csv' };
    const runId = runIdOf('chunked-upload/1234');
    await new LineageRun(emit, 'persistence', batch, runId).start([object]);
    const ended = LineageRun.continued(emit, 'persistence', batch, runIdOf('chunked-upload/1234'), [object]);
    await ended.complete([table('transactions')]);
    await ended.fail('once ended, a run stays so');
    expect(events.map((e) => [e.eventType, e.run.runId])).toEqual([
      ['START', runId],
      ['COMPLETE', runId],
    ]);
    expect(runIdOf('chunked-upload/5678')).not.toBe(runId);
    expect(openLineageProblems(events)).toEqual([]);
  });

  it('holds the validator to the schema: an event without a run id or with a broken facet is refused', async () => {
    const [start, complete] = await runs();
    const noRun = { ...start!, run: { facets: {} } };
    const badFacet = { ...complete!, outputs: [table('accounts', { outputFacets: { outputStatistics: { ...rowCountFacet(1), rowCount: 'two' } } })] };
    expect(openLineageProblems([noRun])).toHaveLength(1);
    expect(openLineageProblems([badFacet])).toEqual([expect.stringContaining('OutputStatisticsOutputDatasetFacet')]);
  });

  it('writes one event a line to a file destination, and nothing when off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openlineage-'));
    try {
      const file = join(dir, 'openlineage.jsonl');
      const run = new LineageRun(lineageEmitter(`file:${file}`), 'catapult', batch);
      await run.start([table('portfolio_links')]);
      await run.complete([]);
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as RunEvent);
      expect(lines.map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
      expect(openLineageProblems(lines)).toEqual([]);
      expect(lineageEmitter('')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never fails the step when the destination cannot take the event', async () => {
    const run = new LineageRun(lineageEmitter('file:/nonexistent-dir/openlineage.jsonl'), 'catapult', batch);
    await expect(run.start([])).resolves.toBeUndefined();
  });

  it('gives up on an HTTP endpoint that never answers, and the step goes on', async () => {
    const server = createServer(() => undefined).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/lineage`;
      await expect(new LineageRun(lineageEmitter(url, undefined, 50), 'catapult', batch).start([])).resolves.toBeUndefined();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
