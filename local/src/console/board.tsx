import type { ExpectedBoard } from '../cli/expected';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** `20241004` → `Fri 2024-10-04`: a column heading of the board (a calendar date: no zone involved). */
const heading = (date: string) => {
  const iso = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
  return `${WEEKDAYS[new Date(`${iso}T00:00:00Z`).getUTCDay()]} ${iso}`;
};

/**
 * The completeness board: every scheduled client × its last business days, each cell the day's state (COMPLETE, in
 * progress, LATE, missing, expected, holiday) with the files still owed, as `status --expected` tells it.
 */
export function Board({ board }: { board: ExpectedBoard }) {
  if (!board.clients.length) return <p class="muted">no client has a delivery schedule</p>;
  return (
    <table class="board card">
      <thead>
        <tr>
          <th>client</th>
          {board.days.map((d) => (
            <th key={d}>{heading(d)}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {board.clients.map((c) => (
          <tr key={c.client} data-client={c.client}>
            <td>{c.client}</td>
            {c.days.map((d) => (
              <td key={d.date} data-day={d.date} title={d.cut_off ? `cut-off ${d.cut_off}` : 'a holiday: nothing owed'}>
                <span class={`stage day ${d.state.replace(' ', '-')}`}>{d.state}</span>
                {d.state !== 'holiday' && d.state !== 'COMPLETE' && (
                  <div class="owed muted">{d.missing.length ? `owes ${d.missing.join(', ')}` : `${d.received.length} of ${d.owed.length} in`}</div>
                )}
                {d.late && d.state !== 'LATE' && <div class="owed muted">late: {d.late.join(', ')}</div>}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
