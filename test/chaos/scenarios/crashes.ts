import { partitionName } from '@dataharvest/shared/load/slice-table';
import { DATE } from '../inputs';
import type { Scenario } from '../scenario';

/** A COPY of the large transactions file must have got this far before the fault: mid-load, not at its start. */
const MID_COPY_BYTES = 1 << 20;

export const crashes: Scenario[] = [
  {
    name: 'handler-killed-mid-copy',
    cloud: 'default',
    async run(h, client) {
      await h.clean('large');
      await h.upload(client, await h.input('large'));
      await h.copying(MID_COPY_BYTES);
      const killed = h.cloud.killContainers(h.fn('persistence'));
      return [...(killed ? [] : ['no persistence container was running to kill']), ...(await h.compare(client, 'large'))];
    },
  },
  {
    name: 'postgres-restarted-mid-load',
    cloud: 'default',
    async run(h, client) {
      await h.clean('large');
      await h.upload(client, await h.input('large'));
      // A backend killed by SIGKILL makes the postmaster end every session and restart, with crash recovery.
      process.kill(await h.copying(MID_COPY_BYTES), 'SIGKILL');
      return h.compare(client, 'large');
    },
  },
  {
    name: 'dynamodb-unavailable',
    cloud: 'default',
    async run(h, client) {
      await h.clean('small');
      await h.upload(client, await h.input('small'));
      await h.until('the first file recorded', () => h.on.metastore.getBatch(client, DATE));
      // Five seconds down, plus DynamoDB Local's own restart: every step's calls ride it out (shared/src/aws.ts).
      await h.cloud.dynamodbOutage(5000);
      return h.compare(client, 'small');
    },
  },
  {
    name: 'chunk-loader-killed-mid-chunk',
    cloud: 'chunked',
    async run(h, client) {
      await h.clean('chunked');
      await h.upload(client, await h.input('chunked'));
      // Twice, once a few chunks are in: a container killed is inside a chunk's transaction (the loads are back to back).
      const loader = h.fn('loader');
      let killed = 0;
      for (const loaded of [3, 15]) {
        await h.until(`${loaded} chunks loaded`, async () => {
          const { rows } = await h.admin.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM chunk_loads l JOIN chunk_uploads u USING (upload_id) WHERE u.partition = $1 AND u.state = 'LOADING' AND l.loaded",
            [partitionName({ type: 'transactions', client, batchDate: DATE })],
          );
          return rows[0]!.n >= loaded ? true : undefined;
        });
        killed += h.cloud.killContainers(loader);
      }
      return [...(killed ? [] : ['no loader container was running to kill']), ...(await h.compare(client, 'chunked'))];
    },
  },
];
