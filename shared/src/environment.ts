import type { z } from 'zod';
import { type AwsClients, awsClients } from './aws';
import { type ClientTrackingEnv, createClientTracking } from './client-tracking';
import { readConfig } from './config';
import { createMetastore, type Metastore, MetastoreEnv } from './metastore';
import { recordStageTime } from './metrics';
import { type Emit, lineageEmitter, OpenLineageEnv } from './openlineage';
import { createDatabase, type Database, DatabaseEnv } from './pg';

/** What every step of the pipeline works with: the metastore and the database. */
export interface StepDeps {
  metastore: Metastore;
  database: Database;
  /** Where the step's OpenLineage run events go; none when off (openlineage.ts). */
  lineage?: Emit;
}

/**
 * Reads a pipeline function's configuration once: the metastore's and the database's variables plus the function's
 * own (`shape`), with its AWS clients (in Lambda the SDK finds region and endpoints itself). A function whose shape
 * includes `ClientTrackingEnv` gets a metastore that also counts its transitions in the client tracking table.
 */
export function fromEnvironment<T extends z.ZodRawShape>(env: NodeJS.ProcessEnv, shape: T, aws: AwsClients = awsClients()) {
  // One check, so a misconfigured function names every missing variable at once; zod cannot infer the merged shape.
  const config = readConfig({ ...MetastoreEnv, ...DatabaseEnv, ...OpenLineageEnv, ...shape }, env) as z.infer<z.ZodObject<typeof MetastoreEnv & typeof DatabaseEnv & typeof OpenLineageEnv>> &
    z.infer<z.ZodObject<T>>;
  const trackingTable = (config as Partial<z.infer<z.ZodObject<typeof ClientTrackingEnv>>>).CLIENT_TRACKING_TABLE;
  const tracking = trackingTable === undefined ? undefined : createClientTracking(aws.dynamo, trackingTable);
  const lineage = lineageEmitter(config.OPENLINEAGE_DESTINATION, aws.kinesis);
  return { config, aws, tracking, lineage, metastore: createMetastore(aws.dynamo, config.METASTORE_TABLE, tracking, recordStageTime), database: createDatabase(config, aws.secrets) };
}
