import { errorPlace } from '@dataharvest/events/error-place';
import type { BatchReport, ControlReport, FileReport } from './batch-report';
import { qualityLines } from './quality-view';
import { formatDuration } from './stage-timings';

/** How many of a refused file's errors the human view shows: `--json` has all the metastore keeps. */
const SHOWN_ERRORS = 3;

/** The human view of one batch for `status`: what an operator asks first (where is it, since when, why not done). */
export function statusLines(r: BatchReport): string[] {
  const age = r.age_ms === undefined ? '' : `, age ${formatDuration(r.age_ms)}`;
  const out = [`${r.client} ${r.batch_date ?? '-'}: ${r.stage}${r.generation === undefined ? '' : ` (generation ${r.generation}${age})`}`];
  if (r.timings?.length) {
    const last = r.timings.length - 1;
    out.push(`  stages: ${r.timings.map((t, i) => `${t.stage}${t.ms === undefined ? '' : ` ${formatDuration(t.ms)}${i === last ? ' so far' : ''}`}`).join(' → ')}`);
  }
  const files = Object.entries(r.files);
  out.push(`  files: ${files.map(([name, f]) => `${name} ${f.status}${f.status === 'PERSISTED' ? ` ${f.rows} rows` : ''}`).join(', ') || '-'}`);
  for (const [name, f] of files.filter(([, f]) => f.status === 'REJECTED' || f.status === 'FAILED')) out.push(...refusal(name, f));
  const transformers = Object.entries(r.transformers).map(([n, t]) => `${n} ${t.status}${t.duration_ms === undefined ? '' : ` ${formatDuration(t.duration_ms)}`}`);
  out.push(`  transformers: ${transformers.join(', ') || '-'}`);
  for (const [n, t] of Object.entries(r.transformers)) if (t.status === 'FAILED' && t.reason && r.failure?.step !== n) out.push(`  ${n} failed: ${t.reason}`);
  if (r.failure) out.push(`  failed at ${r.failure.step}: ${r.failure.reason}`);
  if (r.late) out.push(`  late: ${r.late.missing.join(', ')} missing at the cut-off ${r.late.cut_off}`);
  if (r.data_quality && Object.keys(r.data_quality).length) {
    out.push(
      `  data quality counts: ${Object.entries(r.data_quality)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
  }
  if (r.control) out.push(...controlLines(r.control));
  if (r.quality) out.push(...qualityLines(r.quality).map((l) => `  ${l}`));
  for (const f of r.failures ?? []) {
    const superseded = f.generation !== undefined && r.generation !== undefined && f.generation < r.generation;
    const state = f.resolved
      ? `gave up, resolved since (${f.resolved}): \`dataharvest failures discard --resolved\` removes it`
      : f.gave_up === false
        ? 'retrying'
        : superseded
          ? 'gave up, superseded by a newer generation'
          : 'gave up, in its on-failure queue';
    const seen = f.first_seen ? `, first ${f.first_seen}, last ${f.last_seen}` : '';
    const file = f.object_key ? ` ${f.object_key.split('/').at(-1)}` : '';
    out.push(`  failure ${f.function}${file}: ${state} (generation ${f.generation ?? '-'}, ${f.attempts ?? '?'} attempts${seen}): ${f.reason}`);
  }
  return out;
}

function refusal(name: string, f: FileReport): string[] {
  const lines = [`  ${name} ${f.status}${f.reason ? `: ${f.reason}` : ''}`];
  for (const e of f.errors.slice(0, SHOWN_ERRORS)) lines.push(`    ${errorPlace(e)}: ${e.reason}`);
  const more = (f.error_count ?? f.errors.length) - Math.min(f.errors.length, SHOWN_ERRORS);
  if (more > 0) lines.push(`    … and ${more} more errors (use --json for all)`);
  return lines;
}

/** The control file's line: received with each file's reconciliation, or refused with its first errors. */
function controlLines(c: ControlReport): string[] {
  if (c.status === 'REJECTED') return refusal(`control ${c.file}`, { status: 'REJECTED', rows: 0, ...(c.reason ? { reason: c.reason } : {}), errors: c.errors });
  return [
    `  control ${c.file}: ${Object.entries(c.files)
      .map(([type, state]) => `${type} ${state}`)
      .join(', ')}`,
  ];
}
