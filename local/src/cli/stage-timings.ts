import type { Batch } from '@dataharvest/events/batch';

/** One stage a batch entered, and how long it stayed there (up to now while it still is; none once it ended there). */
export interface StageTiming {
  stage: string;
  entered_at: string;
  ms?: number;
}

/** Stages a batch rests in: no time is spent "in" them, it is over. */
const RESTING = new Set(['COMPLETE', 'FAILED', 'REJECTED']);

/**
 * Every stage the batch entered, in order, from `stage_history` (a batch is created RECEIVING at created_at). A batch
 * written before the history was kept, and no longer RECEIVING, has no timings: guessing them would mislead.
 */
export function stageTimings(batch: Pick<Batch, 'stage' | 'created_at' | 'stage_history'>, now: number): StageTiming[] {
  if (!batch.stage_history && batch.stage !== 'RECEIVING') return [];
  // A step that sets the stage the batch is already in (two transformers failing it) is no new stage.
  const entries = [{ stage: 'RECEIVING', at: batch.created_at }, ...(batch.stage_history ?? [])].filter((e, i, all) => i === 0 || all[i - 1]!.stage !== e.stage);
  return entries.map((e, i) => {
    const next = entries[i + 1];
    const end = next ? Date.parse(next.at) : RESTING.has(e.stage) ? undefined : now;
    return { stage: e.stage, entered_at: e.at, ...(end === undefined ? {} : { ms: Math.max(0, end - Date.parse(e.at)) }) };
  });
}

/** A duration as an operator reads it: 850ms, 12.3s, 4m05s, 2h03m, 3d04h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}
