import { partitionName } from '@dataharvest/shared/load/slice-table';
import type { Harness } from '../harness';
import { DATE, type InputName } from '../inputs';
import type { CloudKind, Scenario } from '../scenario';

/** A COPY of the large transactions file must have got this far before the fault: mid-load, not at its start. */
const MID_COPY_BYTES = 1 << 20;

/**
 * A crash while the client's batch runs: the clean run of `input` first (so the fault cannot touch it), then the
 * client's upload of the same input and the fault, which lists what it could not do; then the outcome's comparison.
 */
const crash = (name: string, cloud: CloudKind, input: InputName, fault: (h: Harness, client: string) => Promise<string[]>): Scenario => ({
  name,
  cloud,
  async run(h, client) {
    await h.clean(input);
    await h.upload(client, await h.input(input));
    const missed = await fault(h, client);
    return [...missed, ...(await h.compare(client, input))];
  },
});

export const crashes: Scenario[] = [
  crash('handler-killed-mid-copy', 'default', 'large', async (h) => {
    await h.copying(MID_COPY_BYTES);
    return h.cloud.killContainers(h.fn('persistence')) ? [] : ['no persistence container was running to kill'];
  }),
  crash('postgres-restarted-mid-load', 'default', 'large', async (h) => {
    // A backend killed by SIGKILL makes the postmaster end every session and restart, with crash recovery.
    process.kill(await h.copying(MID_COPY_BYTES), 'SIGKILL');
    return [];
  }),
  {
    ...crash('dynamodb-unavailable', 'default', 'small', async (h, client) => {
      await h.until('the first file recorded', () => h.on.metastore.getBatch(client, DATE));
      // Five seconds down, plus DynamoDB Local's own restart: every step's calls ride it out (shared/src/aws.ts).
      await h.cloud.dynamodbOutage(5000);
      return [];
    }),
    persistent: true,
  },
  crash('chunk-loader-killed-mid-chunk', 'chunked', 'chunked', async (h, client) => {
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
    return killed ? [] : ['no loader container was running to kill'];
  }),
];
