import { startCloud } from '../cloud/index';
import type { BatchReport } from './batch-report';
import { type Connection, connectCloud, findRunningCloud } from './connection';
import { UsageError } from './errors';
import { logFile, openLogFile } from './log-file';
import type { Progress } from './progress';

/** The cloud a run uses: the one `dataharvest up` runs on the data dir, or one of its own for the command. */
export interface RunTarget extends Connection {
  /** Records whose retries ran out during the run (known of a cloud of its own only). */
  failures: NonNullable<BatchReport['failures']>;
  /** Whether the cloud is quiet (no invocation, nothing pending) before the deadline. */
  quiet(deadline: number): Promise<boolean>;
  /** Stops a cloud of the run's own; leaves the one `up` runs as it is. */
  release(): Promise<void>;
}

export async function runTarget(dataDir: string, progress: Progress, parameters: Record<string, string> = {}): Promise<RunTarget> {
  const running = findRunningCloud(dataDir);
  if (running && Object.keys(parameters).length) throw new UsageError(`\`dataharvest up\` runs on ${dataDir} with its own settings: give --chunk-size to up, or stop it`);
  if (running) {
    progress.line(`using the local cloud that \`dataharvest up\` runs on ${dataDir} (pid ${running.pid}); its terminal shows the logs`);
    // Another process's cloud cannot say whether it is busy: a pause between two reads of the metastore stands in.
    return { ...connectCloud(running), failures: [], quiet: () => new Promise((resolve) => setTimeout(() => resolve(true), 300)), release: async () => undefined };
  }
  // Function logs go to cloud.log, as up's do: the terminal shows progress, `dataharvest logs` shows why.
  const logs = openLogFile(dataDir);
  const cloud = await startCloud({ dataDir, parameters, log: (l, fn) => logs.write(l, fn) });
  const failures: RunTarget['failures'] = [];
  cloud.on('error', (e: { functionName: string; error?: string }) =>
    progress.line(`! ${e.functionName}: ${e.error ?? 'failed'} (the platform retries; details in ${logFile(dataDir)}: \`dataharvest logs --function ${e.functionName}\`)`),
  );
  // A record whose retries ran out can never finish the batch: the run ends as soon as the cloud is quiet.
  cloud.on('gave-up', (e) => {
    failures.push({ function: e.functionName, reason: e.reason });
    progress.line(`! ${e.functionName}: gave up after retries; the record is in its on-failure queue`);
  });
  progress.line(`local cloud up: ${cloud.functions.length} functions`);
  return {
    ...connectCloud(cloud),
    failures,
    quiet: (deadline) =>
      cloud.idle({ quietMs: 300, timeoutMs: Math.max(deadline - Date.now(), 0) }).then(
        () => true,
        () => false,
      ),
    release: async () => {
      await cloud.stop();
      logs.end();
    },
  };
}
