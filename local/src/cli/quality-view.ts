import type { Quality } from '@dataharvest/events/quality';

const percent = (x: number | undefined) => `${((x ?? 0) * 100).toFixed(2)}%`;

/** The human view of a batch's data-quality outcome: the outcome, the override taken, each rule that found something. */
export function qualityLines(quality: Quality): string[] {
  const head = `data quality ${quality.outcome}${quality.override ? ` (override: ${quality.override})` : ''}`;
  const found = quality.rules
    .filter((r) => r.outcome !== 'PASS')
    .map((r) => {
      const limit = r.severity === 'error' ? `, ${r.outcome === 'FAIL' ? 'over' : 'within'} threshold ${percent(r.threshold)}` : '';
      return `  ${r.rule.padEnd(30)} ${r.outcome.padEnd(10)} ${r.count} of ${r.total ?? '?'} rows (${percent(r.ratio)}${limit}, ${r.severity})`;
    });
  return [head, ...found];
}
