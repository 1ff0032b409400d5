import { LocalClock, parseClockTime } from '../src/cloud/clock';
import { parseSchedule } from '../src/cloud/event-sources/schedule-expression';
import { ScheduledRules } from '../src/cloud/event-sources/scheduled-rules';

const at = (iso: string) => new Date(iso);
const nextOf = (expression: string, after: string) => parseSchedule(expression, at('2024-01-01T00:00:00Z')).next(at(after))?.toISOString();

describe('schedule expressions (UTC, as EventBridge rules take them)', () => {
  it('fires a cron at its next matching minute', () => {
    expect(nextOf('cron(0/5 * * * ? *)', '2024-03-18T15:59:30Z')).toBe('2024-03-18T16:00:00.000Z');
    expect(nextOf('cron(0 16 ? * MON-FRI *)', '2024-03-16T17:00:00Z')).toBe('2024-03-18T16:00:00.000Z');
    expect(nextOf('cron(30 6 1 JAN,JUL ? 2025)', '2024-03-18T00:00:00Z')).toBe('2025-01-01T06:30:00.000Z');
    expect(nextOf('cron(0 0 1 1 ? 2020)', '2024-03-18T00:00:00Z')).toBeUndefined();
  });

  it('fires a rate every period from the rule’s creation', () => {
    expect(nextOf('rate(5 minutes)', '2024-01-01T00:07:00Z')).toBe('2024-01-01T00:10:00.000Z');
    expect(nextOf('rate(1 day)', '2024-01-01T00:00:00Z')).toBe('2024-01-02T00:00:00.000Z');
  });

  it('refuses what EventBridge refuses and what it cannot honour', () => {
    expect(() => parseSchedule('cron(0 17 * * * *)', new Date())).toThrow('one of day-of-month and day-of-week must be ?');
    expect(() => parseSchedule('cron(0 17 L * ? *)', new Date())).toThrow('L, W and # are not emulated');
    expect(() => parseSchedule('cron(0 17 ? * 2#1 *)', new Date())).toThrow('L, W and # are not emulated');
    expect(() => parseSchedule('cron(0 24 * * ? *)', new Date())).toThrow('24 is outside 0-23');
    expect(() => parseSchedule('rate(1 minutes)', new Date())).toThrow('singular unit');
    expect(() => parseSchedule('at(2024-03-18T17:00:00)', new Date())).toThrow('neither rate');
  });
});

describe('scheduled rules on the local clock', () => {
  it('fires once when the clock is set to a firing, once for the latest of several passed, and waits when set back', () => {
    const clock = new LocalClock(at('2024-03-18T15:59:00Z'));
    const fired: string[] = [];
    const rules = new ScheduledRules(clock, (fn, event) => fired.push(`${fn} ${(event as { time: string }).time}`));
    rules.add('stack/Rule', { ruleArn: 'arn:aws:events:eu-central-1:000000000000:rule/r', schedule: parseSchedule('cron(0/5 * * * ? *)', clock.now()), targets: [{ functionName: 'check' }] });
    expect(fired).toEqual([]);
    clock.set(at('2024-03-18T16:00:00Z'));
    expect(fired).toEqual(['check 2024-03-18T16:00:00Z']);
    clock.set(at('2024-03-18T16:17:00Z'));
    expect(fired).toEqual(['check 2024-03-18T16:00:00Z', 'check 2024-03-18T16:15:00Z']);
    clock.set(at('2024-03-18T15:00:00Z'));
    clock.set(at('2024-03-18T15:05:00Z'));
    expect(fired.at(-1)).toBe('check 2024-03-18T15:05:00Z');
    rules.stop();
  });

  it('takes a clock time only as an instant with its offset, never in the host’s zone', () => {
    expect(parseClockTime('2024-03-18T16:59:00+01:00').toISOString()).toBe('2024-03-18T15:59:00.000Z');
    expect(() => parseClockTime('2024-03-18T16:59:00')).toThrow('with an offset');
  });
});
