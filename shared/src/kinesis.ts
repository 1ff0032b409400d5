import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';

/** PutRecords takes at most 500 records a call. */
export const MAX_RECORDS = 500;
const ATTEMPTS = 5;

/**
 * PutRecords in calls of 500; entries Kinesis refuses (throttling) are sent again, so a record may arrive twice:
 * every consumer of these streams drops duplicates.
 */
export async function putRecords(kinesis: KinesisClient, streamName: string, records: PutRecordsRequestEntry[]): Promise<void> {
  for (let i = 0; i < records.length; i += MAX_RECORDS) {
    let pending = records.slice(i, i + MAX_RECORDS);
    for (let attempt = 1; pending.length; attempt++) {
      const out = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: pending }));
      pending = pending.filter((_, k) => out.Records?.[k]?.ErrorCode);
      if (pending.length && attempt >= ATTEMPTS) throw new Error(`${pending.length} record(s) still refused by Kinesis after ${ATTEMPTS} attempts`);
      if (pending.length) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}
