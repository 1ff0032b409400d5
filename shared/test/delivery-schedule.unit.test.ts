import { cutOffInstant, DeliveryConfig, dateIn, isBusinessDay } from '../src/delivery-schedule';
import { findLate } from '../../services/delivery/src/check';

const berlin = { calendar: 'DE', time_zone: 'Europe/Berlin', cut_off: '17:00', files: ['accounts', 'clients', 'portfolios', 'transactions'], empty_day: 'empty-file' } as const;
const schedules = DeliveryConfig.parse({ defaults: berlin, clients: { 'bank-de': {}, quiet: { empty_day: 'may-be-missing' } } });
const absentTransactions = { files: ['transactions'], control: false };

describe('delivery schedules: business days and cut-offs in the client’s zone', () => {
  it('takes weekdays but the calendar’s public holidays as business days', () => {
    expect(isBusinessDay(berlin, '20240318')).toBe(true); // a Monday
    expect(isBusinessDay(berlin, '20240316')).toBe(false); // a Saturday
    expect(isBusinessDay(berlin, '20241003')).toBe(false); // Tag der Deutschen Einheit, a Thursday
    expect(isBusinessDay(berlin, '20240329')).toBe(false); // Good Friday
    expect(isBusinessDay({ calendar: 'US' }, '20241003')).toBe(true);
  });

  it('puts the cut-off at 17:00 Berlin time on either side of the change to summer time', () => {
    expect(cutOffInstant(berlin, '20240328').toISOString()).toBe('2024-03-28T16:00:00.000Z'); // CET, +01:00
    expect(cutOffInstant(berlin, '20240402').toISOString()).toBe('2024-04-02T15:00:00.000Z'); // CEST, +02:00
    expect(cutOffInstant(berlin, '20241028').toISOString()).toBe('2024-10-28T16:00:00.000Z'); // back to CET
  });

  it('reads the day in the client’s zone, not the host’s', () => {
    expect(dateIn(berlin, new Date('2024-03-18T23:30:00Z'))).toBe('20240319');
    expect(dateIn({ time_zone: 'America/New_York' }, new Date('2024-03-19T03:30:00Z'))).toBe('20240318');
  });

  it('refuses a schedule it cannot honour, naming the client', () => {
    const bad = DeliveryConfig.safeParse({ defaults: berlin, clients: { a: { time_zone: 'Mars/Olympus' }, b: { cut_off: '5pm' } } });
    expect(bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['clients.a.time_zone: not an IANA time zone', 'clients.b.cut_off: HH:MM']);
  });
});

describe('the delivery check', () => {
  const inBatch = { files: { accounts: {}, clients: {}, portfolios: {} } } as never;
  const batches = (batch: unknown) => async () => batch as never;

  it('finds files owed once the cut-off has passed, not before', async () => {
    expect(await findLate(schedules, new Date('2024-03-18T15:59:00Z'), batches(inBatch))).toEqual([]);
    expect(await findLate(schedules, new Date('2024-03-18T16:00:00Z'), batches(inBatch))).toEqual([
      { client: 'bank-de', batchDate: '20240318', cutOff: '2024-03-18T16:00:00.000Z', missing: ['transactions_20240318.csv'], absent: absentTransactions },
      { client: 'quiet', batchDate: '20240318', cutOff: '2024-03-18T16:00:00.000Z', missing: ['transactions_20240318.csv'], absent: absentTransactions },
    ]);
  });

  it('names a control file the schedule owes among the missing files, and is content once it is in', async () => {
    const owing = DeliveryConfig.parse({ defaults: berlin, clients: { 'bank-at': { control_file: true } } });
    const fourIn = { files: { accounts: {}, clients: {}, portfolios: {}, transactions: {} } };
    expect(await findLate(owing, new Date('2024-03-18T16:00:00Z'), batches(fourIn))).toEqual([
      { client: 'bank-at', batchDate: '20240318', cutOff: '2024-03-18T16:00:00.000Z', missing: ['control_20240318.csv'], absent: { files: [], control: true } },
    ]);
    expect(await findLate(owing, new Date('2024-03-18T16:00:00Z'), batches({ ...fourIn, control: { status: 'RECEIVED' } }))).toEqual([]);
    expect((await findLate(schedules, new Date('2024-03-18T16:00:00Z'), batches(fourIn))).map((f) => f.client)).toEqual([]);
  });

  it('expects nothing on a holiday, records a lateness once, and lets an empty day be missing where the schedule says so', async () => {
    expect(await findLate(schedules, new Date('2024-10-03T16:00:00Z'), batches(undefined))).toEqual([]);
    expect(await findLate(schedules, new Date('2024-03-18T16:00:00Z'), batches({ files: {}, late: {} }))).toEqual([]);
    expect((await findLate(schedules, new Date('2024-03-18T16:00:00Z'), batches(undefined))).map((f) => f.client)).toEqual(['bank-de']);
  });

  it('moves the cut-off with summer time', async () => {
    expect(await findLate(schedules, new Date('2024-04-02T15:00:00Z'), batches(inBatch))).toHaveLength(2);
    expect(await findLate(schedules, new Date('2024-03-28T15:00:00Z'), batches(inBatch))).toEqual([]);
  });
});
