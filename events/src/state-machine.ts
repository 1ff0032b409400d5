import { FILE_TYPES, persistedFlag, STAGES, type Stage } from './batch';

/**
 * The batch state machine, declared once. The metastore client's conditional updates take their `from` stages
 * from here, every service's change-feed filter is the trigger of the step it runs (a test compares the packaged
 * templates with these patterns), the scaffold writes a new transformer's filter from `TRIGGERS.transform`, and the
 * diagram in docs/metastore.md is generated from the same lists (`npm run docs:state-machine`).
 *
 * Adding a stage: add it to STAGES (events/src/batch.ts), add the transitions into and out of it here with the
 * step that makes them, give that step's service the trigger declared here, and write its handler.
 */

/** A step: who makes the move, from which stages, to which, and when. */
export interface Transition {
  step: Step;
  from: readonly Stage[];
  to: Stage;
  when: string;
}

export type Step = 'receive' | 'late' | 'resume' | 'refuse' | 'persist' | 'new-generation' | 'relate' | 'relate-without-transformers' | 'transform' | 'reopen' | 'publish' | 'fail';

const ANY: readonly Stage[] = STAGES;

export const TRANSITIONS: readonly Transition[] = [
  { step: 'receive', from: ['RECEIVING', 'REJECTED'], to: 'RECEIVING', when: 'a file is recorded, not all four are in, none is refused' },
  { step: 'receive', from: ['LATE'], to: 'LATE', when: 'a file arrives after the cut-off, files are still owed' },
  { step: 'receive', from: ['RECEIVING', 'REJECTED', 'LATE'], to: 'REJECTED', when: 'a file is refused before all four are in' },
  { step: 'late', from: ['RECEIVING', 'REJECTED'], to: 'LATE', when: 'the client’s cut-off passed with files owed (the delivery check; it creates a batch no file started)' },
  { step: 'late', from: ['PERSISTED'], to: 'LATE', when: 'the cut-off passed with the four files in but the control file the schedule owes missing' },
  { step: 'resume', from: ['LATE'], to: 'PERSISTED', when: 'the owed control file arrives after the cut-off, the four files in' },
  { step: 'refuse', from: ANY, to: 'REJECTED', when: 'a loaded file does not match the control file: its flag is cleared' },
  { step: 'persist', from: ANY, to: 'PERSISTED', when: 'new data completes the four files: generation + 1' },
  { step: 'new-generation', from: ANY, to: 'PERSISTED', when: 'figures a later batch builds on changed: generation + 1' },
  { step: 'relate', from: ['PERSISTED'], to: 'RELATED', when: 'relations established; the registered transformers become required' },
  { step: 'relate-without-transformers', from: ['PERSISTED'], to: 'TRANSFORMED', when: 'relations established and no transformer is registered' },
  { step: 'transform', from: ['RELATED'], to: 'TRANSFORMED', when: 'the last required transformer is DONE for this generation' },
  { step: 'reopen', from: ['RELATED', 'TRANSFORMED', 'COMPLETE'], to: 'RELATED', when: 'a backfill adds a transformer to a related batch' },
  { step: 'publish', from: ['TRANSFORMED'], to: 'COMPLETE', when: 'one event per portfolio published' },
  { step: 'fail', from: ANY, to: 'FAILED', when: 'a step cannot succeed on this generation’s data' },
];

/** The stages a step may move a batch from (the union over its transitions). */
export function fromStages(step: Step): Stage[] {
  const stages = new Set(TRANSITIONS.filter((t) => t.step === step).flatMap((t) => t.from));
  if (!stages.size) throw new Error(`no transition for step ${step}`);
  return STAGES.filter((s) => stages.has(s));
}

/** The stage a step moves a batch to, when it has one target only. */
export function toStage(step: Step): Stage {
  const targets = [...new Set(TRANSITIONS.filter((t) => t.step === step).map((t) => t.to))];
  if (targets.length !== 1) throw new Error(`step ${step} has ${targets.length} target stages`);
  return targets[0]!;
}

const bool = (value: boolean) => ({ BOOL: [value] });
const stage = (...stages: Stage[]) => ({ S: stages });

/**
 * What wakes each service: a Lambda filter pattern on the batch item's typed NewImage (the change feed's record
 * data is `{"dynamodb": {"NewImage": …}}`). A filter matches every later image still satisfying it, so each handler
 * re-reads the batch and does only what its current state asks for.
 */
export const TRIGGERS = {
  relationship: { ...Object.fromEntries(FILE_TYPES.map((t) => [persistedFlag[t], bool(true)])), relation_established: bool(false), stage: stage(...fromStages('relate')) },
  transform: { relation_established: bool(true), stage: stage(...fromStages('transform')) },
  catapult: { stage: stage(...fromStages('publish')) },
} as const;

/** A trigger as the event source mapping's FilterCriteria pattern, on the change feed's record data. */
export const feedFilter = (trigger: keyof typeof TRIGGERS) => ({ data: { dynamodb: { NewImage: TRIGGERS[trigger] } } });

/** The state machine as a Mermaid diagram, for docs/metastore.md. */
export function stateDiagram(): string {
  const lines = ['stateDiagram-v2', '  state "any stage" as AnyStage', '  [*] --> RECEIVING: first file of a batch', '  [*] --> LATE: cut-off before any file'];
  for (const t of TRANSITIONS) for (const from of t.from === ANY ? ['AnyStage'] : t.from) lines.push(`  ${from} --> ${t.to}: ${t.step}`);
  return lines.join('\n');
}

/**
 * Readers of the change feed that make no transition and so have no trigger: the notifier wakes on every batch
 * item and refused key and publishes what the change from the old image to the new one settled; the privacy service
 * wakes on an erasure request still to do (events/src/erasure.ts).
 */
export const OBSERVERS = {
  notifier: { sk: { S: [{ prefix: 'BATCH#' }, { prefix: 'REJECTED#' }] } },
  privacy: { pk: { S: ['ERASURE'] }, status: { S: ['REQUESTED'] } },
} as const;

/** An observer's FilterCriteria pattern, on the change feed's record data. */
export const observerFilter = (observer: keyof typeof OBSERVERS) => ({ data: { dynamodb: { NewImage: OBSERVERS[observer] } } });
