import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { type ControlDetail, MAX_CONTROL_BYTES, parseControl, parseControlKey } from '@dataharvest/events/control';
import type { StepDeps } from '@dataharvest/shared/environment';
import { moveObject, openObject, putErrorReport, reportRefused } from '@dataharvest/shared/load/objects';
import { logger } from '@dataharvest/shared/logger';
import type { Outcome, S3Object } from './persist-object';

/**
 * A control file (docs/persistence.md): recorded on its batch, then every file already loaded is reconciled with it
 * (the files still to come are reconciled as they load). An invalid one is refused as a data file is, with a report.
 * Each step can run again after a failure: the same upload records nothing twice and reconciles nothing twice.
 */
export async function persistControl({ metastore, s3, copyLimit }: StepDeps & { s3: S3Client; copyLimit?: number }, { bucket, key, etag, eTag }: S3Object): Promise<Outcome | undefined> {
  const named = parseControlKey(key);
  if (!named) return undefined;
  const object = await openObject(s3, bucket, key, eTag);
  if (!object) return { status: 'GONE', rows: 0 };
  const text = await readSome(object.body, MAX_CONTROL_BYTES);
  const parsed = text === undefined ? { ok: false as const, errors: [{ line: 1, reason: `larger than ${MAX_CONTROL_BYTES} bytes: not a control file` }] } : parseControl(text);
  const base = { key, etag, at: new Date().toISOString() };
  const detail: ControlDetail = parsed.ok
    ? { ...base, status: 'RECEIVED', lines: parsed.lines, errors: [] }
    : { ...base, status: 'REJECTED', reason: `${parsed.errors.length} problem${parsed.errors.length === 1 ? '' : 's'} found; not used`, errors: parsed.errors };
  if (!parsed.ok) await putErrorReport(s3, bucket, key, { key, status: 'REJECTED', reason: detail.reason, error_count: parsed.errors.length, errors: parsed.errors });
  await metastore.recordControl(named.client, named.batchDate, detail);
  const refused = parsed.ok ? await metastore.reconcileBatch(named.client, named.batchDate) : [];
  // A batch the delivery check found LATE for this very file takes up its chain now its four files are in.
  if (parsed.ok) await metastore.resumeLate(named.client, named.batchDate);
  await reportRefused(s3, bucket, refused);
  logger.info('control file settled', { key, status: detail.status, refused: refused.map((r) => r.type) });
  await moveObject(s3, bucket, key, parsed.ok ? 'archive' : 'quarantine', object.etag, copyLimit);
  return { status: parsed.ok ? 'RECORDED' : 'REJECTED', rows: 0 };
}

/** The body as text, or undefined once it passes `limit` bytes. */
async function readSome(body: Readable, limit: number): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) return undefined;
      parts.push(chunk as Buffer);
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(parts).toString('utf8');
}
