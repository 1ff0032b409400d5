import { errorPlace } from '@dataharvest/events/error-place';
import { useEffect, useState } from 'preact/hooks';
import type { BatchReport, FileReport } from '../cli/batch-report';
import type { PublishedEvent } from '../cli/event-selection';
import type { FileReportEntry } from '../cli/file-reports';
import { ruleFinding } from '../cli/quality-view';
import { formatDuration } from '../cli/stage-timings';
import type { EventsResult } from './api';

/** How many of a file's errors the page lists, as status's human view does. */
const SHOWN_ERRORS = 3;

const percent = (x: number | undefined) => `${((x ?? 0) * 100).toFixed(2)}%`;

export const Badge = ({ value }: { value: string }) => <span class={`stage ${value}`}>{value}</span>;

/**
 * One batch as `status` shows it: stage, timeline, files with rows and errors (each refused or lenient one linked to
 * its report, as `reports` lists it), transformers, quality, failures, and its published events on demand.
 */
export function BatchCard({ batch, reports }: { batch: BatchReport; reports: FileReportEntry[] }) {
  const id = `${batch.client}/${batch.batch_date ?? '-'}`;
  return (
    <section class="card batch" data-batch={id}>
      <header>
        <strong>{batch.client}</strong>
        <span>{batch.batch_date ?? '-'}</span>
        <Badge value={batch.stage} />
        {batch.generation !== undefined && <span class="muted">generation {batch.generation}</span>}
        {batch.age_ms !== undefined && <span class="muted">age {formatDuration(batch.age_ms)}</span>}
        {batch.events_published !== undefined && <span class="muted">{batch.events_published} events published</span>}
      </header>
      <Timeline batch={batch} />
      {batch.failure && (
        <p class="reason failure">
          failed at {batch.failure.step}: {batch.failure.reason}
        </p>
      )}
      <Files files={batch.files} reports={reports} />
      <Transformers batch={batch} />
      <Control batch={batch} />
      <Quality batch={batch} />
      <Failures batch={batch} />
      <Events batch={batch} />
    </section>
  );
}

function Timeline({ batch }: { batch: BatchReport }) {
  const timings = batch.timings ?? [];
  if (!timings.length) return null;
  const last = timings.length - 1;
  return (
    <div class="timeline" aria-label="stages">
      {timings.map((t, i) => (
        <span key={t.stage + t.entered_at} class={i === last ? 'current' : ''} title={`entered ${t.entered_at}`}>
          {t.stage}
          {t.ms === undefined ? '' : ` ${formatDuration(t.ms)}${i === last ? ' so far' : ''}`}
        </span>
      ))}
    </div>
  );
}

function Files({ files, reports }: { files: Record<string, FileReport>; reports: FileReportEntry[] }) {
  const entries = Object.entries(files);
  if (!entries.length) return <p class="muted">no files yet</p>;
  return (
    <table class="files">
      <thead>
        <tr>
          <th>file</th>
          <th>status</th>
          <th>rows</th>
          <th>errors</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([name, f]) => (
          <tr key={name} data-file={name}>
            <td>{name}</td>
            <td>
              <Badge value={f.status} />
            </td>
            <td class="rows">{f.rows}</td>
            <td>
              {f.reason && <div class="reason">{f.reason}</div>}
              {f.errors.slice(0, SHOWN_ERRORS).map((e) => (
                <div key={`${e.line}:${e.column ?? ''}`} class="reason">
                  {errorPlace(e)}: {e.reason}
                </div>
              ))}
              {(f.error_count ?? f.errors.length) > SHOWN_ERRORS && <div class="muted">… {(f.error_count ?? f.errors.length) - SHOWN_ERRORS} more</div>}
              <ReportLink entry={reports.find((r) => r.file_name.startsWith(`${name}_`))} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Transformers({ batch }: { batch: BatchReport }) {
  const entries = Object.entries(batch.transformers);
  if (!entries.length) return null;
  return (
    <p class="transformers">
      {entries.map(([name, t]) => (
        <span key={name} title={t.reason}>
          {name} <Badge value={t.status} />
          {t.duration_ms === undefined ? '' : ` ${formatDuration(t.duration_ms)}`}
          {t.status === 'FAILED' && t.reason && batch.failure?.step !== name ? <span class="reason"> {t.reason}</span> : ''}{' '}
        </span>
      ))}
    </p>
  );
}

function Quality({ batch }: { batch: BatchReport }) {
  const counts = Object.entries(batch.data_quality ?? {});
  const q = batch.quality;
  if (!q && !counts.length) return null;
  return (
    <div class="quality">
      {q && (
        <p>
          data quality <Badge value={q.outcome} />
          {q.override ? ` (override: ${q.override})` : ''}
        </p>
      )}
      {q?.rules
        .filter((r) => r.outcome !== 'PASS')
        .map((r) => (
          <div key={r.rule}>
            {r.rule} <Badge value={r.outcome} /> {ruleFinding(r)}
          </div>
        ))}
      {q?.rules.some((r) => r.note) && <p class="muted">volume rules not judged: {q.rules.find((r) => r.note)?.note}</p>}
      {counts.length > 0 && <p class="muted">counts: {counts.map(([k, n]) => `${k} ${n}`).join(', ')}</p>}
    </div>
  );
}

/** The batch's control file: each file's reconciliation with it, or why it was refused. */
function Control({ batch }: { batch: BatchReport }) {
  const c = batch.control;
  if (!c) return null;
  return (
    <div class="control">
      control {c.file} <Badge value={c.status} />
      {c.status === 'REJECTED' ? (
        <span class="reason">
          {' '}
          {c.reason}: {c.errors.slice(0, SHOWN_ERRORS).map((e) => `${errorPlace(e)}: ${e.reason}`).join('; ')}
        </span>
      ) : (
        Object.entries(c.files).map(([type, state]) => (
          <span key={type}>
            {' '}
            {type} <Badge value={state} />
          </span>
        ))
      )}
    </div>
  );
}

function Failures({ batch }: { batch: BatchReport }) {
  if (!batch.failures?.length) return null;
  return (
    <div class="batch-failures">
      {batch.failures.map((f) => (
        <div key={f.function} class="reason">
          {f.function} {f.gave_up === false ? 'retrying' : 'gave up'} (generation {f.generation ?? '-'}, {f.attempts ?? '?'} attempts): {f.reason}
        </div>
      ))}
    </div>
  );
}

/** Where a refused or leniently loaded file's report and copy are: the report opens from the bucket through the API. */
export function ReportLink({ entry }: { entry: FileReportEntry | undefined }) {
  if (!entry) return null;
  return (
    <div class="report">
      {entry.report ? (
        <a href={`/api/report?key=${encodeURIComponent(entry.report)}`} target="_blank" rel="noreferrer">
          full report
        </a>
      ) : (
        <span>{entry.rejected_rows} rows left out (PostgreSQL's rejects table)</span>
      )}{' '}
      <span class="muted">copy: {entry.copy}</span>
    </div>
  );
}

/** The batch's published events, the highest version per portfolio, read from the output stream when expanded. */
function Events({ batch }: { batch: BatchReport }) {
  const [open, setOpen] = useState(false);
  const [events, setEvents] = useState<PublishedEvent[]>();
  const [error, setError] = useState<string>();
  // Read again when a new generation (or a backfill) publishes.
  const published = `${batch.generation}:${batch.events_published}`;
  useEffect(() => {
    if (!open) return;
    let current = true;
    fetch(`/api/events?client=${encodeURIComponent(batch.client)}&date=${batch.batch_date}`, { cache: 'no-store' })
      .then(async (res) => {
        if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
        return (await res.json()) as EventsResult;
      })
      .then(
        (r) => current && setEvents(r.events),
        (e: Error) => current && setError(`cannot read the events: ${e.message}`),
      );
    return () => {
      current = false;
    };
  }, [open, published, batch.client, batch.batch_date]);
  if (!batch.events_published || !batch.batch_date) return null;
  return (
    <details class="events" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{batch.events_published} events published</summary>
      {error ? (
        <p class="reason">{error}</p>
      ) : !events ? (
        <p class="muted">reading the output stream…</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>portfolio</th>
              <th>version</th>
              <th>deposits</th>
              <th>transactions</th>
              <th>net</th>
              <th>taxes paid</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.event_id} data-event={e.event_id} title={JSON.stringify(e)}>
                <td>{e.portfolio_reference}</td>
                <td class="version">{e.version}</td>
                <td>{String(e.deposits_total ?? '-')}</td>
                <td>{String(e.transaction_count ?? '-')}</td>
                <td>{String(e.net_amount ?? '-')}</td>
                <td>{String(e.taxes_paid ?? '-')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
