import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { StageTime } from './stage-time';

/**
 * The pipeline's CloudWatch metrics, written as Embedded Metric Format lines in the function's log (CloudWatch
 * Logs turns them into metrics; no API call, no extra permission). Namespace DataHarvest; the one dimension is
 * `service` (POWERTOOLS_SERVICE_NAME). No client or batch dimension: each distinct value is a metric of its own,
 * billed monthly, and client codes are the customers' references (docs/operations.md).
 */
export const metrics = new Metrics({ namespace: 'DataHarvest' });

/** One file (or chunked upload) settled by persistence or the chunk loaders. */
export interface FileSettled {
  loaded: boolean;
  /** Rows in the slice (0 when the file was refused). */
  rows: number;
  /** Lenient loads: rows set aside in the rejects table. */
  rejectedRows: number;
  bytes: number;
  durationMs: number;
}

export function recordFileSettled(f: FileSettled): void {
  metrics.addMetric(f.loaded ? 'FilesPersisted' : 'FilesRejected', MetricUnit.Count, 1);
  metrics.addMetric('RowsLoaded', MetricUnit.Count, f.loaded ? f.rows : 0);
  metrics.addMetric('RowsRejected', MetricUnit.Count, f.rejectedRows);
  metrics.addMetric('BytesLoaded', MetricUnit.Bytes, f.bytes);
  metrics.addMetric('LoadDuration', MetricUnit.Milliseconds, f.durationMs);
}

/** How long one step (a transformer, the relationship step) took on a batch. */
export function recordStepDuration(durationMs: number): void {
  metrics.addMetric('StepDuration', MetricUnit.Milliseconds, durationMs);
}

/** A batch reached COMPLETE: from its creation (the first file's arrival) to now. */
export function recordBatchComplete(createdAt: string, now = Date.now()): void {
  metrics.addMetric('BatchesCompleted', MetricUnit.Count, 1);
  metrics.addMetric('BatchLatency', MetricUnit.Milliseconds, Math.max(0, now - Date.parse(createdAt)));
}

/**
 * A batch's time in a stage (stage-time.ts), in seconds: the one metric whose dimension is `stage` alone, not `service`,
 * so one alarm per stage sees it whichever service moved the batch on, and the delivery check's age of a batch that
 * never moves. Written at once (its dimensions differ from the invocation's other metrics).
 */
export function recordStageTime(t: StageTime): void {
  const single = metrics.singleMetric();
  single.clearDefaultDimensions();
  single.addDimension('stage', t.stage);
  single.addMetric('BatchStageTime', MetricUnit.Seconds, Math.round(t.ms / 1000));
}

/**
 * Writes what the invocation recorded, once at its end, failed or not. Unlike Powertools' logMetrics it says nothing
 * when nothing was recorded (most invocations skip a record they need not handle; a warning each time is noise).
 */
export function flushMetrics(): MiddlewareObj {
  const flush = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}
