import { randomUUID } from 'node:crypto';
import { ACCOUNT, REGION } from '../account';
import type { LocalClock } from '../clock';
import type { Schedule } from './schedule-expression';

/** One target of an enabled events rule with a schedule: a function, given the scheduled event or the rule's Input. */
export interface ScheduledRule {
  ruleArn: string;
  schedule: Schedule;
  targets: Array<{ functionName: string; input?: unknown }>;
}

/** How often the host's timer looks at the clock; setting the clock looks at once. */
const TICK_MS = 250;

/** The event EventBridge sends a rule's target, its `time` the scheduled minute (the local clock's). */
export const scheduledEvent = (ruleArn: string, time: Date) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: ACCOUNT,
  time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  region: REGION,
  resources: [ruleArn],
  detail: {},
});

/**
 * Scheduled events rules on the local clock: each rule invokes its targets asynchronously at every firing time the
 * clock passes. A clock set forward over several firings fires the latest one once (a day's jump is one check, not
 * 288); set back, the rule waits for its next firing after the new time.
 */
export class ScheduledRules {
  private readonly rules = new Map<string, ScheduledRule & { due: Date | undefined }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly clock: LocalClock,
    private readonly invokeAsync: (functionName: string, event: unknown) => void,
  ) {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    clock.onSet(() => {
      // Set back: the first firing from the new time on. Set forward: the firing already due stays due.
      const justBefore = new Date(this.clock.now().getTime() - 1);
      for (const rule of this.rules.values()) {
        const fresh = rule.schedule.next(justBefore);
        if (fresh && (!rule.due || fresh < rule.due)) rule.due = fresh;
      }
      this.tick();
    });
  }

  add(owner: string, rule: ScheduledRule): void {
    this.rules.set(owner, { ...rule, due: rule.schedule.next(this.clock.now()) });
  }

  remove(owner: string): void {
    this.rules.delete(owner);
  }

  /** Fires every rule whose firing time the clock has reached. */
  tick(): void {
    const now = this.clock.now();
    for (const rule of this.rules.values()) {
      if (!rule.due || rule.due > now) continue;
      let fired = rule.due;
      for (let next = rule.schedule.next(fired); next && next <= now; next = rule.schedule.next(next)) fired = next;
      rule.due = rule.schedule.next(fired);
      const event = scheduledEvent(rule.ruleArn, fired);
      for (const target of rule.targets) this.invokeAsync(target.functionName, target.input ?? event);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.rules.clear();
  }
}
