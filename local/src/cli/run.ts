import { createWriteStream, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { allPersisted, type Batch, type RejectedKey } from '@dataharvest/events/batch';
import { objectKey, parseObjectKey } from '@dataharvest/events/object-key';
import { listClient } from '@dataharvest/shared/metastore';
import { startCloud } from '../cloud/index';
import { batchReport, exitCode, type BatchReport } from './batch-report';
import { eventsStream, ingestBucket, useCloud } from './connection';
import { UsageError } from './errors';
import { expandInputs } from './inputs';
import { latestForBatch, readOutputEvents } from './output-events';
import { Progress } from './progress';
import { uploadFile, type Uploaded } from './upload';

export interface RunOptions {
  paths: string[];
  client: string;
  json: boolean;
  timeoutSeconds: number;
  dataDir: string;
}

const FINAL_STAGES = new Set(['COMPLETE', 'FAILED']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `dataharvest run`: a local cloud for the duration of the command, the files uploaded, and a wait until each
 * file is settled and, once all four persisted, until the batch is COMPLETE or FAILED. Returns the exit code.
 */
export async function run(opts: RunOptions): Promise<number> {
  const files = expandInputs(opts.paths);
  const dates = new Set(files.map((f) => parseObjectKey(objectKey(opts.client, basename(f)))).flatMap((k) => (k.ok ? [k.batchDate] : [])));
  if (dates.size > 1) throw new UsageError(`one batch per run: the files name batch dates ${[...dates].join(', ')}`);
  const batchDate = [...dates][0];

  const progress = new Progress(!opts.json);
  progress.line(`DataHarvest run: client ${opts.client}${batchDate ? `, batch ${batchDate}` : ''}, ${files.length} file(s)`);
  // Function logs (JSON, one line each) go to a file: the terminal shows progress, the file shows why.
  mkdirSync(opts.dataDir, { recursive: true });
  const logFile = join(opts.dataDir, 'cloud.log');
  const logs = createWriteStream(logFile, { flags: 'a' });
  const cloud = await startCloud({ dataDir: opts.dataDir, log: (l) => logs.write(`${l}\n`) });
  try {
    useCloud(cloud);
    cloud.on('error', (e: { functionName: string; error?: string }) => progress.line(`! ${e.functionName}: ${e.error ?? 'failed'} (the platform retries; details in ${logFile})`));
    // A record whose retries ran out can never finish the batch: the run ends as soon as the cloud is quiet.
    const failures: NonNullable<BatchReport['failures']> = [];
    cloud.on('gave-up', (e) => {
      failures.push({ function: e.functionName, reason: e.reason });
      progress.line(`! ${e.functionName}: gave up after retries; the record is in its on-failure queue`);
    });
    progress.line(`local cloud up: ${cloud.functions.length} functions`);

    const uploaded: Uploaded[] = [];
    for (const path of files) {
      const u = await uploadFile(ingestBucket(cloud), opts.client, path, (l) => progress.line(l));
      uploaded.push(u);
      progress.line(`uploaded ${u.fileName} (${u.bytes} B)`);
    }

    const deadline = Date.now() + opts.timeoutSeconds * 1000;
    const settled = (s: State) => finished(s, uploaded) || failures.length > 0;
    let state = await readState(opts.client, batchDate);
    // Settled only when the metastore says so AND the cloud is quiet: a handler may be between two writes.
    while (!(settled(state) && (await quiet(cloud, deadline)) && settled((state = await readState(opts.client, batchDate))))) {
      if (Date.now() > deadline) {
        progress.line(`timed out after ${opts.timeoutSeconds}s at stage ${state.batch?.stage ?? 'RECEIVING'}`);
        break;
      }
      progress.observe(state.batch, state.rejected);
      await sleep(200);
      state = await readState(opts.client, batchDate);
    }
    progress.observe(state.batch, state.rejected);

    const ours = new Set(uploaded.map((u) => u.key));
    const rejected = state.rejected.filter((r) => ours.has(r.key));
    const events = batchDate && state.batch?.stage === 'COMPLETE' ? latestForBatch(await readOutputEvents(eventsStream(cloud)), opts.client, batchDate) : [];
    const report = batchReport(opts.client, state.batch, rejected, events, failures);
    if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else progress.summary(report);
    return exitCode(report);
  } finally {
    await cloud.stop();
    logs.end();
  }
}

async function quiet(cloud: { idle(o: { quietMs: number; timeoutMs: number }): Promise<void> }, deadline: number): Promise<boolean> {
  return cloud.idle({ quietMs: 300, timeoutMs: Math.max(deadline - Date.now(), 0) }).then(
    () => true,
    () => false,
  );
}

interface State {
  batch?: Batch;
  rejected: RejectedKey[];
}

async function readState(client: string, batchDate: string | undefined): Promise<State> {
  const { batches, rejected } = await listClient(client, batchDate);
  return { batch: batchDate ? batches[0] : undefined, rejected };
}

/** Every upload has its outcome recorded, and a batch with all four files has reached a final stage. */
function finished({ batch, rejected }: State, uploaded: Uploaded[]): boolean {
  const settled = uploaded.every((u) => {
    const key = parseObjectKey(u.key);
    if (!key.ok) return rejected.some((r) => r.key === u.key);
    const file = batch?.files[key.type];
    return file !== undefined && file.etag === u.etag && file.status !== 'LOADING';
  });
  if (!settled || !batch) return settled;
  return !allPersisted(batch) || FINAL_STAGES.has(batch.stage);
}

export type { BatchReport };
