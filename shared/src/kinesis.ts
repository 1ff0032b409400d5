import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';

/** PutRecords takes at most 500 records and 5 MiB a call. */
export const MAX_RECORDS = 500;
const MAX_REQUEST_BYTES = 5 << 20;
const ATTEMPTS = 5;

/** Consecutive records in calls within PutRecords' limits. */
function* calls(records: PutRecordsRequestEntry[]): Generator<PutRecordsRequestEntry[]> {
  let call: PutRecordsRequestEntry[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = (record.Data?.length ?? 0) + Buffer.byteLength(record.PartitionKey ?? '');
    if (call.length && (call.length === MAX_RECORDS || bytes + size > MAX_REQUEST_BYTES)) {
      yield call;
      call = [];
      bytes = 0;
    }
    call.push(record);
    bytes += size;
  }
  if (call.length) yield call;
}

/**
 * PutRecords in calls of at most 500 records and 5 MiB; entries Kinesis refuses (throttling) are sent again, so a record may arrive twice:
 * every consumer of these streams drops duplicates.
 */
export async function putRecords(kinesis: KinesisClient, streamName: string, records: PutRecordsRequestEntry[]): Promise<void> {
  for (const call of calls(records)) {
    let pending = call;
    for (let attempt = 1; pending.length; attempt++) {
      const out = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: pending }));
      pending = pending.filter((_, k) => out.Records?.[k]?.ErrorCode);
      if (pending.length && attempt >= ATTEMPTS) throw new Error(`${pending.length} record(s) still refused by Kinesis after ${ATTEMPTS} attempts`);
      if (pending.length) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}
