import type { FailureRecord } from '@dataharvest/events/failure';
import type { RejectedKey } from '@dataharvest/events/batch';
import type { QueuedFailure } from '../src/cli/failure-queues';
import { failureLine } from '../src/cli/failures';
import { fileReports } from '../src/cli/file-reports';
import { entryLines } from '../src/cli/reports';
import { statusReport, statusText } from '../src/cli/status';

/** What an upload can put into a key or reason: a terminal title, a screen clear, a line overwritten. */
const NAME = 'x\x1b]0;owned\x07\u009b2J.csv';
const REASON = 'bad\rkey\x1b[31m';
const RAW = /\p{Cc}/u;

const rejected: RejectedKey = {
  pk: 'CLIENT#unknown',
  sk: `REJECTED#${NAME}`,
  client: 'unknown',
  key: `incoming/a b/${NAME}`,
  file_name: NAME,
  stage: 'REJECTED',
  reason: REASON,
  at: '2026-12-01T00:00:00Z',
};
const failure: FailureRecord = {
  pk: 'CLIENT#ACME',
  sk: 'FAILURE#20200130#tax',
  client: 'ACME',
  batch_date: '20200130',
  function: 'tax',
  generation: 1,
  reason: REASON,
  attempts: 4,
  first_seen: 'a',
  last_seen: 'b',
  gave_up: true,
};

describe('text views print keys and reasons with their control characters escaped', () => {
  it('status', () => {
    const text = statusText(statusReport([], [rejected], [failure], 0));
    const lines = text.split('\n').slice(0, -1);
    expect(lines.filter((l) => RAW.test(l))).toEqual([]);
    expect(lines).toContain('unknown x\\u001b]0;owned\\u0007\\u009b2J.csv: REJECTED bad\\rkey\\u001b[31m');
    expect(lines.some((l) => l.includes('failure tax: gave up') && l.endsWith(': bad\\rkey\\u001b[31m'))).toBe(true);
  });

  it('reports', () => {
    const lines = fileReports([], [rejected]).flatMap(entryLines);
    expect(lines.filter((l) => RAW.test(l))).toEqual([]);
    expect(lines[0]).toBe('unknown - x\\u001b]0;owned\\u0007\\u009b2J.csv: REJECTED: bad\\rkey\\u001b[31m');
  });

  it('failures', () => {
    const queued: QueuedFailure = {
      id: 'm1',
      queueUrl: 'q',
      receiptHandle: 'r',
      service: 'persistence',
      condition: 'RetryAttemptsExhausted',
      client: 'ACME',
      batchDate: '20200130',
      reason: `Error: ${REASON}`,
      attempts: 3,
      firstSeen: 'a',
      lastSeen: 'b',
      objectKey: `incoming/ACME/${NAME}`,
    };
    const line = failureLine(queued, undefined);
    expect(RAW.test(line)).toBe(false);
    expect(line).toContain('  x\\u001b]0;owned\\u0007\\u009b2J.csv  gen ?');
    expect(line.endsWith('Error: bad\\rkey\\u001b[31m')).toBe(true);
  });
});
