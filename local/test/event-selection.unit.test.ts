import { portfolioEventId } from '@dataharvest/events/portfolio-event';
import { EventSelection, eventLine } from '../src/cli/event-selection';

const P1 = '00000000-0000-4000-8000-000000000001';
const P2 = '00000000-0000-4000-8000-000000000002';

const event = (client: string, batchDate: string, portfolio: string, version: number, extra: Record<string, unknown> = {}) => {
  const key = { type: 'portfolio.batch.v1' as const, client, batch_date: batchDate, version, portfolio_reference: portfolio };
  return {
    ...key,
    event_id: portfolioEventId(key),
    client_reference: '00000000-0000-4000-8000-0000000000ff',
    account_number: '12345678',
    published_at: '2020-01-31T00:00:00.000Z',
    deposits_total: '5000.00',
    transaction_count: 2,
    net_amount: '4210.44',
    taxes_paid: '0.00',
    ...extra,
  };
};

describe('which published events `dataharvest events` shows', () => {
  const stream = [
    event('C', '20200130', P1, 1),
    event('C', '20200130', P2, 1),
    event('OTHER', '20200130', P1, 1),
    event('C', '20200130', P1, 2),
    // A retry of the catapult publishes the same event again, with its own published_at.
    { ...event('C', '20200130', P1, 2), published_at: '2020-01-31T00:00:01.000Z' },
    event('C', '20200131', P1, 1),
    { not: 'an event' },
  ];

  it('keeps the highest version per portfolio and batch date, each event once, of the client only', () => {
    const s = new EventSelection({ client: 'C', allVersions: false });
    s.add(stream);
    expect(s.events().map((e) => [e.batch_date, e.portfolio_reference, e.version, e.published_at])).toEqual([
      ['20200130', P1, 2, '2020-01-31T00:00:00.000Z'],
      ['20200130', P2, 1, '2020-01-31T00:00:00.000Z'],
      ['20200131', P1, 1, '2020-01-31T00:00:00.000Z'],
    ]);
  });

  it('keeps every version with --all-versions, and one date with --date', () => {
    const s = new EventSelection({ client: 'C', date: '20200130', allVersions: true });
    s.add(stream);
    expect(s.events().map((e) => [e.portfolio_reference, e.version])).toEqual([
      [P1, 1],
      [P1, 2],
      [P2, 1],
    ]);
  });

  it('returns from each add only what is new to the listing (--follow): no copy, no older version', () => {
    const s = new EventSelection({ client: 'C', allVersions: false });
    expect(s.add(stream.slice(0, 4))).toHaveLength(3);
    expect(s.add([event('C', '20200130', P1, 2), event('C', '20200130', P1, 1)])).toEqual([]);
    expect(s.add([event('C', '20200130', P1, 3)]).map((e) => e.version)).toEqual([3]);
  });

  it('lists an event as published even when the contract has gained fields since (only its name is checked)', () => {
    const { client_reference: _, account_number: __, published_at: ___, ...older } = event('C', '20200129', P1, 1);
    const s = new EventSelection({ client: 'C', allVersions: false });
    expect(s.add([older])).toEqual([older]);
  });

  it('prints an event as one line with its key figures and the fields of later transformers', () => {
    expect(eventLine(event('C', '20200130', P1, 2, { audit_probe_count: 3 }))).toBe(`C 20200130 ${P1} v2: deposits 5000.00, transactions 2, net 4210.44, taxes paid 0.00, audit_probe_count 3`);
  });
});
