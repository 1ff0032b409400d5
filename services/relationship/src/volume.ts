import { FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import { FILE_SCHEMAS } from '@dataharvest/events/file-schemas';
import type { QualityOutcome, RuleConfig } from '@dataharvest/events/quality';

/**
 * Volume anomalies (docs/data-quality.md): a batch's row count and money sum per file type, held to the client's
 * trailing batches. A value outside median ± max(k × MAD, threshold × |median|) is anomalous; MAD is scaled by 1.4826
 * so that k reads as standard deviations of normal data, and the threshold keeps a steady history (MAD near 0) from
 * flagging every small change. With fewer than `min_history` earlier batches the rule passes, saying so.
 */

/** How many earlier batches the history holds at most. */
export const HISTORY = 20;
/** Defaults of what a rule's config may set. */
export const DEFAULT_K = 3;
export const DEFAULT_MIN_HISTORY = 10;
const MAD_SCALE = 1.4826;

export type Measured = 'row' | 'money';
const hasMoney = (type: FileType) => FILE_SCHEMAS[type].some((c) => c.kind === 'money');

/** Every volume rule: rows of each file type, money of each file type that has money columns. */
export const VOLUME_RULES: readonly { rule: string; type: FileType; measured: Measured }[] = FILE_TYPES.flatMap((type) => [
  { rule: `${type}_row_volume`, type, measured: 'row' as const },
  ...(hasMoney(type) ? [{ rule: `${type}_money_volume`, type, measured: 'money' as const }] : []),
]);

/** One file type's volume in one batch. */
export interface Volume {
  rows: number;
  money: number;
}

/** A volume rule's measurement: today's value and the same figure of the earlier batches, newest first. */
export interface VolumeMeasure {
  rule: string;
  value: number;
  history: number[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The scaled median absolute deviation. */
export const mad = (values: readonly number[]) => {
  const m = median(values);
  return MAD_SCALE * median(values.map((v) => Math.abs(v - m)));
};

/** The volume measures of a batch: each rule's value today and over the history (batches newest first). */
export function volumeMeasures(today: Record<FileType, Volume>, history: ReadonlyArray<Partial<Record<FileType, Volume>>>): VolumeMeasure[] {
  const figure = (v: Volume, measured: Measured) => (measured === 'row' ? v.rows : v.money);
  return VOLUME_RULES.map(({ rule, type, measured }) => ({
    rule,
    value: figure(today[type], measured),
    history: history.flatMap((b) => (b[type] ? [figure(b[type], measured)] : [])),
  }));
}

export interface VolumeJudgement {
  outcome: QualityOutcome;
  median?: number;
  low?: number;
  high?: number;
  note?: string;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Judges one volume measure under a rule's config: FAIL (an error) or WARN (a warning) outside the band. */
export function judgeVolume(config: RuleConfig, { value, history }: VolumeMeasure): VolumeJudgement {
  const minHistory = config.min_history ?? DEFAULT_MIN_HISTORY;
  if (history.length < minHistory) return { outcome: 'PASS', note: `too little history: ${history.length} of the ${minHistory} earlier batches it needs` };
  const m = median(history);
  const width = Math.max((config.k ?? DEFAULT_K) * mad(history), (config.threshold ?? 0) * Math.abs(m));
  const [low, high] = [round2(m - width), round2(m + width)];
  const outside = value < low || value > high;
  const outcome: QualityOutcome = !outside ? 'PASS' : config.severity === 'error' ? 'FAIL' : 'WARN';
  return { outcome, median: round2(m), low, high };
}
