import type { Batch, Stage } from '@dataharvest/events/batch';

/**
 * How long batches stay in a stage, for the alarm on batches stuck in one (docs/operations.md, "Alarms"): the time a
 * batch spent in the stage a transition just moved it out of, and the age of the oldest batch still waiting in one.
 * Both come from the batch's `stage_history` (RECEIVING, never listed, was entered at `created_at`).
 */
export interface StageTime {
  stage: Stage;
  ms: number;
}

/** The pipeline's own stages: a batch in one waits for a service, not for a client (RECEIVING, LATE) or anyone (final stages). */
export const PIPELINE_STAGES = ['PERSISTED', 'RELATED', 'TRANSFORMED'] as const satisfies readonly Stage[];

/** Written by a transition (its last history entry just appended): the stage it left and how long it was in it. */
export function stageLeft(batch: Batch): StageTime | undefined {
  const history = batch.stage_history ?? [];
  const entered = history.at(-1);
  if (!entered) return undefined;
  const previous = history.at(-2) ?? { stage: 'RECEIVING' as const, at: batch.created_at };
  return { stage: previous.stage, ms: Math.max(0, Date.parse(entered.at) - Date.parse(previous.at)) };
}

/** When the batch entered the stage it is in. */
function enteredAt(batch: Batch): string {
  const last = batch.stage_history?.at(-1);
  return last?.stage === batch.stage ? last.at : batch.created_at;
}

/** The oldest of the batches in `stage`, by how long it has been there at `now`; undefined when none is. */
export function oldestInStage(stage: Stage, batches: readonly Batch[], now: Date): StageTime | undefined {
  const waiting = batches.filter((b) => b.stage === stage).map((b) => now.getTime() - Date.parse(enteredAt(b)));
  return waiting.length ? { stage, ms: Math.max(0, ...waiting) } : undefined;
}
