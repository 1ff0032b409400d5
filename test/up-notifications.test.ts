import { cli, startUp } from './support/cli';
import { cloudScratch } from './support/scratch';

/** `dataharvest up --notifications`: a batch run against it shows its notifications in up's output, one a line. */
describe('dataharvest up --notifications', () => {
  const scratch = cloudScratch('notifications');
  afterAll(() => scratch.remove());

  it('prints each settled file and the batch COMPLETE as they come', async () => {
    const up = startUp('--notifications', '--data-dir', scratch.dataDir);
    try {
      await up.printed('notifications of arn:aws:sns:');
      const run = await cli('run', 'examples/sample-batch', '--client', 'NOTIFIED', '--data-dir', scratch.dataDir);
      expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining('COMPLETE') });
      await up.printed('notification SUCCESS batch NOTIFIED 20200130 COMPLETE: batch complete: 2 events published\n');
      for (const type of ['accounts', 'clients', 'portfolios', 'transactions']) expect(up.output()).toContain(`notification SUCCESS file NOTIFIED 20200130 ${type}_20200130.csv: 2 rows loaded\n`);
    } finally {
      expect(await up.stop()).toBe(0);
    }
  });
});
