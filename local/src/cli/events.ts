import { setTimeout as sleep } from 'node:timers/promises';
import { type Connection, eventsStream } from './connection';
import { type EventFilter, EventSelection, eventLine, type PublishedEvent } from './event-selection';
import { StreamReader } from './stream-reader';

export interface EventsOptions extends EventFilter {
  json: boolean;
  follow: boolean;
}

/** How often `--follow` reads the stream again: under each shard's five reads a second. */
const FOLLOW_POLL_MS = 1000;

/**
 * `dataharvest events`: what the catapult published for a client, read from the output stream as a consumer reads
 * it. Exit 0 when an event matched, 1 when none did (nothing published for it, or no longer in the stream's retention);
 * with `--follow` it reads on until SIGINT or SIGTERM, then exits 0.
 */
export async function events(on: Connection, opts: EventsOptions): Promise<number> {
  const reader = new StreamReader(on.aws.kinesis, eventsStream(on.deployment));
  const selection = new EventSelection(opts);
  selection.add(await reader.read());
  const found = selection.events();
  if (opts.follow) return follow(reader, selection, found, opts);
  if (opts.json) process.stdout.write(`${JSON.stringify({ events: found })}\n`);
  else if (!found.length) process.stdout.write(`no events for ${what(opts)}\n`);
  else process.stdout.write(`${found.map(eventLine).join('\n')}\n`);
  return found.length ? 0 : 1;
}

const what = (opts: EventsOptions) => `${opts.client}${opts.date ? ` ${opts.date}` : ''}`;

/** `--follow`: the events so far, then each new one as it arrives; with --json one event (JSON) per line. */
async function follow(reader: StreamReader, selection: EventSelection, found: PublishedEvent[], opts: EventsOptions): Promise<number> {
  const print = (es: PublishedEvent[]) => {
    if (es.length) process.stdout.write(`${es.map((e) => (opts.json ? JSON.stringify(e) : eventLine(e))).join('\n')}\n`);
  };
  print(found);
  process.stderr.write(`following the events of ${what(opts)}; Ctrl-C stops\n`);
  const stopped = new AbortController();
  const stop = () => stopped.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!stopped.signal.aborted) {
      await sleep(FOLLOW_POLL_MS, undefined, { signal: stopped.signal }).catch(() => undefined);
      if (!stopped.signal.aborted) print(selection.add(await reader.read()));
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
