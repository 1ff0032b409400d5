import { FILE_TYPES } from '@dataharvest/events/batch';
import { DATE } from '../inputs';
import type { Scenario } from '../scenario';

const CLIENTS = 200;
const STORM = 30;
/** How long the good batch may take next to the storm, from its upload to COMPLETE. */
const GOOD_BATCH_BOUND_MS = 60_000;

/** A transactions file of about 2 MiB whose header has a column persistence does not know (test/one-cloud/refused-storm.ts). */
function refusedFile(): Buffer {
  const row = '1,12345678,14e56786,5000,DEPOSIT,x\n';
  return Buffer.from(`record_id,accout_number,transaction_reference,amount,keyword,unexpected_column\n${row.repeat(Math.ceil((2 << 20) / row.length))}`);
}

/** Runs `work` over `items`, at most `width` at once. */
async function pooled<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export const load: Scenario[] = [
  {
    name: 'many-clients-at-once',
    cloud: 'default',
    async run(h, client) {
      const files = await h.input('tiny');
      await h.clean('tiny');
      const clients = Array.from({ length: CLIENTS }, (_, i) => `${client}_${String(i).padStart(3, '0')}`);
      await pooled(
        clients.flatMap((c) => FILE_TYPES.map((t) => [c, t] as const)),
        40,
        async ([c, t]) => {
          await h.put(c, t, files[t]);
        },
      );
      const out: string[] = [];
      for (const c of clients) out.push(...(await h.compare(c, 'tiny', { timeoutMs: 600_000 })).map((d) => `${c}: ${d}`));
      return out;
    },
  },
  {
    name: 'refused-storm-beside-good-batch',
    cloud: 'default',
    async run(h, client) {
      await h.clean('small');
      const body = refusedFile();
      const storm = Array.from({ length: STORM }, (_, i) => `${client}_STORM_${String(i).padStart(2, '0')}`);
      const stormed = pooled(storm, 10, async (c) => {
        await h.put(c, 'transactions', body);
      });
      const started = Date.now();
      await h.upload(client, await h.input('small'));
      await h.until('the good batch', async () => ((await h.on.metastore.getBatch(client, DATE))?.stage === 'COMPLETE' ? true : undefined), GOOD_BATCH_BOUND_MS).catch(() => undefined);
      const took = Date.now() - started;
      await stormed;
      const out = took > GOOD_BATCH_BOUND_MS ? [`the good batch waited: not COMPLETE ${GOOD_BATCH_BOUND_MS} ms after its upload`] : [];
      out.push(...(await h.compare(client, 'small')));
      for (const c of storm) {
        const file = await h.until(`${c}'s refusal`, async () => (await h.on.metastore.getBatch(c, DATE))?.files.transactions);
        if (file.status !== 'REJECTED') out.push(`${c}: the refused file ended ${file.status}`);
      }
      return out;
    },
  },
];
