import { allPersisted, type Batch, type RejectedKey } from '@dataharvest/events/batch';
import { parseControlKey } from '@dataharvest/events/control';
import { parseObjectKey } from '@dataharvest/events/object-key';
import type { Metastore } from '@dataharvest/shared/metastore';
import { batchReport, exitCode } from './batch-report';
import { eventsStream, ingestBucket } from './connection';
import { batchOf, expandInputs } from './inputs';
import { latestForBatch, readOutputEvents } from './output-events';
import { Progress } from './progress';
import { runTarget } from './run-target';
import { uploadFile, type Uploaded } from './upload';

export interface RunOptions {
  /** Template parameter values (`--chunk-size`). */
  parameters?: Record<string, string>;
  paths: string[];
  client: string;
  json: boolean;
  timeoutSeconds: number;
  dataDir: string;
}

const FINAL_STAGES = new Set(['COMPLETE', 'FAILED']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `dataharvest run`: the files uploaded to the local cloud that `up` runs on the data dir, or to one started for
 * the command, and a wait until each file is settled and, once all four persisted, until the batch is COMPLETE or
 * FAILED. The timeout counts from the command's start, the cloud's start and the uploads included. Returns the exit code.
 */
export async function run(opts: RunOptions): Promise<number> {
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  const files = expandInputs(opts.paths);
  const batchDate = batchOf(opts.client, files);

  const progress = new Progress(!opts.json);
  progress.line(`DataHarvest run: client ${opts.client}, batch ${batchDate}, ${files.length} file(s)`);
  const target = await runTarget(opts.dataDir, progress, opts.parameters);
  // An upload in flight at the deadline is abandoned: the timeout is what the user allowed the whole command.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), Math.max(deadline - Date.now(), 0));
  try {
    // A re-run (a corrected file) finds the previous attempt in the metastore: its lines are not this run's.
    const before = await readState(target.metastore, opts.client, batchDate);
    progress.baseline(before.batch, before.rejected);
    const uploaded: Uploaded[] = [];
    for (const path of files) {
      if (timeout.signal.aborted) break;
      const u = await uploadFile(target.aws.s3, ingestBucket(target.deployment), opts.client, path, (l) => progress.line(l), timeout.signal).catch((error: unknown) => {
        if (timeout.signal.aborted) return undefined;
        throw error;
      });
      if (!u) break;
      uploaded.push(u);
      progress.line(`uploaded ${u.fileName} (${u.bytes} B)`);
    }

    const settled = (s: State) => uploaded.length === files.length && (finished(s, uploaded) || target.failures.length > 0);
    let state = await readState(target.metastore, opts.client, batchDate);
    // Settled only when the metastore says so AND the cloud is quiet: a handler may be between two writes.
    while (!(settled(state) && (await target.quiet(deadline)) && settled((state = await readState(target.metastore, opts.client, batchDate))))) {
      if (Date.now() > deadline) {
        progress.line(
          `timed out after ${opts.timeoutSeconds}s at stage ${state.batch?.stage ?? 'RECEIVING'}${uploaded.length < files.length ? `, ${uploaded.length} of ${files.length} file(s) uploaded` : ''}`,
        );
        break;
      }
      progress.observe(state.batch, state.rejected);
      await sleep(200);
      state = await readState(target.metastore, opts.client, batchDate);
    }
    progress.observe(state.batch, state.rejected);

    const ours = new Set(uploaded.map((u) => u.key));
    const rejected = state.rejected.filter((r) => ours.has(r.key));
    const events = state.batch?.stage === 'COMPLETE' ? latestForBatch(await readOutputEvents(target.aws.kinesis, eventsStream(target.deployment)), opts.client, batchDate) : [];
    const report = batchReport(opts.client, state.batch, rejected, events, target.failures);
    if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else progress.summary(report);
    // What the functions say while the cloud stops (invocations cut short) is no news to the reader of the report.
    progress.end();
    return exitCode(report);
  } finally {
    clearTimeout(timer);
    await target.release();
  }
}

interface State {
  batch?: Batch;
  rejected: RejectedKey[];
}

async function readState(metastore: Metastore, client: string, batchDate: string): Promise<State> {
  const { batches, rejected } = await metastore.listClient(client, batchDate);
  return { batch: batches[0], rejected };
}

/** Every upload has its outcome recorded, and a batch with all four files has reached a final stage. */
function finished({ batch, rejected }: State, uploaded: Uploaded[]): boolean {
  const settled = uploaded.every((u) => {
    const key = parseObjectKey(u.key);
    if (!key.ok && parseControlKey(u.key)) return batch?.control?.etag === u.etag;
    if (!key.ok) return rejected.some((r) => r.key === u.key);
    const file = batch?.files[key.type];
    return file !== undefined && file.etag === u.etag && file.status !== 'LOADING';
  });
  if (!settled || !batch) return settled;
  return !allPersisted(batch) || FINAL_STAGES.has(batch.stage);
}
