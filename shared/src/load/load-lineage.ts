import type { FileType } from '@dataharvest/events/batch';
import { FILE_SCHEMAS } from '@dataharvest/events/file-schemas';
import { type Dataset, type Emit, LineageRun, rowCountFacet, runIdOf, schemaFacet, sourceFacet, table, versionFacet } from '../openlineage';

/**
 * What the load of one uploaded file reports as OpenLineage (docs/lineage.md): its job is `persistence` whichever
 * path loads it, its input the object (versioned by its SHA-256 once read), its output the file type's table with the
 * rows loaded. A file persistence loads itself is one run of one invocation; a file loaded in chunks is one run that
 * persistence starts when it hands the chunks out and the loader that settles the file ends, under a run id that
 * follows from the upload.
 */
export const LOAD_JOB = 'persistence';

/** The uploaded object; with its digest once the bytes were read. */
export const uploadedObject = (bucket: string, key: string, digest?: { sha256?: string; bytes: number }): Dataset => {
  const object = { namespace: `s3://${bucket}`, name: key };
  return digest?.sha256 ? { ...object, facets: { version: versionFacet(digest.sha256), dataharvest_source: sourceFacet(digest.sha256, digest.bytes) } } : object;
};

/** The table a file type loads into, with its columns (the file's and the row's `line`) and the rows loaded. */
export const loadedTable = (type: FileType, rows: number): Dataset => {
  const columns = [...FILE_SCHEMAS[type].map((c) => ({ name: c.name, type: c.kind })), { name: 'line', type: 'integer' }];
  return table(type, { facets: { schema: schemaFacet(columns) }, outputFacets: { outputStatistics: rowCountFacet(rows) } });
};

/** The run of a chunked upload: started by persistence, ended by the loader that settles it. */
export const chunkedLoadRun = (emit: Emit | undefined, upload: { uploadId: string; bucket: string; key: string; client: string; batchDate: string }) => {
  const batch = { client: upload.client, batch_date: upload.batchDate };
  const runId = runIdOf(`chunked-upload/${upload.uploadId}`);
  return {
    start: () => new LineageRun(emit, LOAD_JOB, batch, runId).start([uploadedObject(upload.bucket, upload.key)]),
    ended: () => LineageRun.continued(emit, LOAD_JOB, batch, runId, [uploadedObject(upload.bucket, upload.key)]),
  };
};
