import { ClockTimeError, parseClockTime } from '../cloud/clock';
import { CloudError } from '../cloud/errors';
import { findRunningCloud } from './connection';
import { requestClock } from './control';
import { UsageError } from './errors';

/**
 * `dataharvest clock [time]`: the local cloud's clock, set to `time` when given (an ISO instant with its offset), so
 * a scheduled rule's firing (a delivery cut-off) comes in seconds. Scheduled rules the new time passes fire at once.
 */
export async function clock(time: string | undefined, opts: { dataDir: string; json: boolean }): Promise<number> {
  const cloud = findRunningCloud(opts.dataDir);
  if (!cloud?.control) throw new CloudError(`no local cloud is running on ${opts.dataDir}: start one with \`npx dataharvest up\` (on AWS the clock is AWS's)`);
  const outcome = await requestClock(cloud.control, time);
  if ('error' in outcome) throw new UsageError(outcome.error);
  process.stdout.write(opts.json ? `${JSON.stringify(outcome)}\n` : `${outcome.now}\n`);
  return 0;
}

/** `up --clock <time>`: the instant the clock starts at; a time without an offset is a usage error. */
export function clockStart(text: string): Date {
  try {
    return parseClockTime(text);
  } catch (error) {
    if (error instanceof ClockTimeError) throw new UsageError(`--clock: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The time a command judges cut-offs by: the running local cloud's clock, else (a deployed stage) the host's. */
export async function cloudNow(dataDir: string, stage: string | undefined): Promise<Date> {
  const control = stage === undefined ? findRunningCloud(dataDir)?.control : undefined;
  const outcome = control ? await requestClock(control) : undefined;
  return outcome && 'now' in outcome ? new Date(outcome.now) : new Date();
}
