import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ConsoleState, QueuedView, RedriveResult } from './api';
import { TOKEN_HEADER } from './api';
import { BatchCard, ReportLink } from './batch';
import { Board } from './board';

/** The status console's page: polls GET /api/state every second and redrives through POST /api/redrive. */
const POLL_MS = 1000;
const token = document.querySelector('meta[name="console-token"]')?.getAttribute('content') ?? '';

function App() {
  const [state, setState] = useState<ConsoleState>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const res = await fetch('/api/state', { cache: 'no-store' });
        if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
        setState((await res.json()) as ConsoleState);
        setError(undefined);
      } catch (e) {
        setError(`cannot read the state: ${(e as Error).message}`);
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  return (
    <>
      <header>
        <h1>DataHarvest status</h1>
        <span class="muted" id="updated">
          {state ? `updated ${state.at}` : 'connecting…'}
        </span>
      </header>
      {error && <p class="reason">{error}</p>}
      {state && <Body state={state} />}
    </>
  );
}

function Body({ state }: { state: ConsoleState }) {
  return (
    <>
      {state.board && (
        <>
          <h2>Expected deliveries</h2>
          <Board board={state.board} />
        </>
      )}
      <h2>Clients</h2>
      {state.clients.length ? (
        <table class="clients card">
          <thead>
            <tr>
              <th>client</th>
              <th>in flight</th>
              <th>last complete</th>
              <th>files</th>
              <th>rows</th>
              <th>failures</th>
              <th>last error</th>
            </tr>
          </thead>
          <tbody>
            {state.clients.map((c) => (
              <tr key={c.client} data-client={c.client}>
                <td>{c.client}</td>
                <td>{c.in_flight.join(', ') || '-'}</td>
                <td>{c.last_complete_batch ?? '-'}</td>
                <td>{c.files}</td>
                <td>{c.rows}</td>
                <td>{c.failures}</td>
                <td>{c.last_error ? `${c.last_error.batch_date}: ${c.last_error.what}` : '-'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">no clients yet</p>
      )}
      <h2>On-failure queues</h2>
      <Queued queued={state.queued} />
      <h2>Batches</h2>
      {state.batches.length ? (
        state.batches.map((b) => <BatchCard key={`${b.client}/${b.batch_date}`} batch={b} reports={state.reports.filter((r) => r.client === b.client && r.batch_date === b.batch_date)} />)
      ) : (
        <p class="muted">no batches yet</p>
      )}
      {state.rejected.length > 0 && (
        <>
          <h2>Refused uploads</h2>
          {state.rejected.map((r) => (
            <div key={r.key} class="rejected" data-rejected={r.key}>
              <p class="reason">
                {r.client} {r.file_name}: {r.reason}
              </p>
              <ReportLink entry={state.reports.find((e) => e.key === r.key)} />
            </div>
          ))}
        </>
      )}
    </>
  );
}

function Queued({ queued }: { queued: QueuedView[] }) {
  const [busy, setBusy] = useState<string>();
  const [outcome, setOutcome] = useState<string>();
  if (!queued.length) return <p class="muted">{outcome ?? 'every on-failure queue is empty'}</p>;
  const redriveOne = async (id: string) => {
    setBusy(id);
    try {
      const res = await fetch('/api/redrive', { method: 'POST', headers: { 'content-type': 'application/json', [TOKEN_HEADER]: token }, body: JSON.stringify({ id }) });
      const result = (await res.json()) as RedriveResult;
      setOutcome(result.error ?? (result.code === 0 ? `redriven ${id}` : `${id} names no batch: left in its queue`));
    } catch (e) {
      setOutcome(`redrive failed: ${(e as Error).message}`);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <>
      {outcome && <p class="muted">{outcome}</p>}
      <table class="queued card">
        <thead>
          <tr>
            <th>service</th>
            <th>batch</th>
            <th>attempts</th>
            <th>first … last seen</th>
            <th>reason</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {queued.map((f) => (
            <tr key={f.id} data-failure={f.id}>
              <td>{f.service}</td>
              <td>
                {f.client ?? '?'}/{f.batchDate ?? '?'} gen {f.generation ?? '?'}
              </td>
              <td>{f.attempts}</td>
              <td>
                {f.firstSeen} … {f.lastSeen}
              </td>
              <td class="reason">{f.reason}</td>
              <td>
                <button type="button" disabled={!f.redrivable || busy !== undefined} title={f.redrivable ? 'run the step again for this batch' : 'names no batch: upload the file again'} onClick={() => redriveOne(f.id)}>
                  Redrive
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // preact renders next to the "loading…" placeholder, not over it
render(<App />, root);
