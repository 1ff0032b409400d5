import type { Quality, RuleResult } from '@dataharvest/events/quality';

const percent = (x: number | undefined) => `${((x ?? 0) * 100).toFixed(2)}%`;

/** What a rule found: rows of rows for a count, a figure against its band for a volume rule. */
export function ruleFinding(r: RuleResult): string {
  if (r.value !== undefined) return `${r.value} outside ${r.low}..${r.high} (median ${r.median} of the last ${r.history} batches, ${r.severity})`;
  const limit = r.severity === 'error' ? `, ${r.outcome === 'FAIL' ? 'over' : 'within'} threshold ${percent(r.threshold)}` : '';
  return `${r.count} of ${r.total ?? '?'} rows (${percent(r.ratio)}${limit}, ${r.severity})`;
}

/**
 * The human view of a batch's data-quality outcome: the outcome, the override taken, each rule that found something,
 * and why rules passed without judging (a client's first batches have too little history for the volume rules).
 */
export function qualityLines(quality: Quality): string[] {
  const head = `data quality ${quality.outcome}${quality.override ? ` (override: ${quality.override})` : ''}`;
  const found = quality.rules.filter((r) => r.outcome !== 'PASS').map((r) => `  ${r.rule.padEnd(30)} ${r.outcome.padEnd(10)} ${ruleFinding(r)}`);
  const note = quality.rules.find((r) => r.note)?.note;
  return [head, ...found, ...(note ? [`  volume rules not judged: ${note}`] : [])];
}
