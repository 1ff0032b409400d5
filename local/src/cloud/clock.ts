import { LocalCloudError } from './errors';

/** A listener told each time the clock is set, so what waits for a time (scheduled rules) looks again at once. */
type Listener = (now: Date) => void;

/**
 * The local cloud's clock: the host's time plus an offset that `up --clock` and `dataharvest clock` set, so a test
 * or a user reaches a cut-off in seconds. It runs on from where it is set. Only what the local cloud schedules
 * follows it (a scheduled event's `time`); a function's own `Date.now()` stays the host's.
 */
export class LocalClock {
  private offsetMs = 0;
  private readonly listeners: Listener[] = [];

  constructor(start?: Date) {
    if (start) this.offsetMs = start.getTime() - Date.now();
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  set(time: Date): Date {
    this.offsetMs = time.getTime() - Date.now();
    const now = this.now();
    for (const listener of this.listeners) listener(now);
    return now;
  }

  onSet(listener: Listener): void {
    this.listeners.push(listener);
  }
}

/** Thrown for a time the clock cannot be set to. */
export class ClockTimeError extends LocalCloudError {
  override name = 'ClockTimeError';
}

/** An ISO 8601 instant with its offset (`2024-03-18T16:59:00+01:00`, `…Z`): never read in the host's zone. */
export function parseClockTime(text: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    throw new ClockTimeError(`clock time ${JSON.stringify(text)} is not an ISO 8601 instant with an offset, e.g. 2024-03-18T16:59:00+01:00`);
  }
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) throw new ClockTimeError(`clock time ${JSON.stringify(text)} is not a valid date`);
  return time;
}
