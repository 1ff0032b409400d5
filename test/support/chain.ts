import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AttributeValue, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type pg from 'pg';
import { FILE_TYPES, isoDate, nextIsoDate, type Batch, type FileType } from '@dataharvest/events/batch';
import { columnForHeader } from '@dataharvest/events/file-schemas';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import type { AwsClients } from '@dataharvest/shared/aws';
import type { StepDeps } from '@dataharvest/shared/environment';
import { batchKey, createMetastore, type Metastore } from '@dataharvest/shared/metastore';
import { applyDdl, newPool } from '@dataharvest/shared/pg';
import { contributionOf } from '@dataharvest/shared/transformer';
import { definition as deposit } from '../../services/deposit/src/handler';
import { createHandler as createRelationship } from '../../services/relationship/src/handler';
import type { QualityConfig } from '../../services/relationship/src/quality';
import { definition as tax } from '../../services/tax/src/handler';
import { definition as transaction } from '../../services/transaction/src/handler';
import { compileFilters, kinesisFilterView } from '../../local/src/cloud/event-sources/filter';
import { REGION } from '../../local/src/cloud/account';
import { startServices, type Services } from '../../local/src/cloud/emulators/services';
import { loadStack, type Physical } from '../../local/src/cloud/cloudformation/template';
import { testClients, testDatabase } from './clients';
import { createStackResources, storeClients } from './metastore-stack';
import { deployedQuality } from './quality';

/**
 * What the transformer and catapult tests share: real PostgreSQL, DynamoDB Local and kinesalite; the packaged
 * metastore stack's tables; base-table rows loaded with plain INSERTs; and stream events built from real metastore items.
 */
export type Rows = Record<FileType, Array<Record<string, string>>>;
export type StreamHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

export const SAMPLE_DATE = '20200130';
export const FRIDA = { portfolio: '90755e32-7438-4354-ad37-ad900e297844', client: '9e40659b-8b9f-4fc4-814b-5a7b5a23b64d', account: '12345678' };
export const FRITZ = { portfolio: '439695b4-508d-4562-8576-670e70024627', client: 'f4a0cc2c-d0b4-4f14-b202-c8a5e45e90e7', account: '12345679' };

/** The rows of examples/sample-batch, keyed by canonical column names (the files' `accout_number` included). */
export function sampleRows(): Rows {
  const read = (type: FileType) => {
    const [header, ...lines] = readFileSync(join('examples/sample-batch', `${type}_${SAMPLE_DATE}.csv`), 'utf8')
      .trim()
      .split(/\r?\n/);
    const columns = header!.split(',').map((h) => columnForHeader(type, h)!.name);
    return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [columns[i]!, v])));
  };
  return Object.fromEntries(FILE_TYPES.map((t) => [t, read(t)])) as Rows;
}

export interface Chain {
  services: Services;
  /** Clients on the emulators, and the metastore and database handlers are given, as Lambda builds them. */
  aws: AwsClients;
  metastore: Metastore;
  deps: StepDeps;
  /** The data-quality rules the relationship step is packaged with. */
  quality: QualityConfig;
  db: pg.Pool;
  /** Creates the resources of one type that a packaged service declares (its Kinesis stream, say); returns their names. */
  createAll(serviceDir: string, type: string): Promise<string[]>;
  /** Replaces one batch's base rows (each slice in its own partition, as persistence keeps them). */
  load(client: string, batchDate: string, rows: Rows): Promise<void>;
  /**
   * Records files as persisted through the real metastore client: all four bring a new batch to PERSISTED; one more
   * upload of a complete batch (a correction) starts its next generation.
   */
  persist(client: string, batchDate: string, types?: readonly FileType[]): Promise<Batch>;
  /** A change-feed event whose one record carries the batch item exactly as DynamoDB holds it now. */
  event(client: string, batchDate: string, patch?: Record<string, AttributeValue>): Promise<KinesisStreamEvent>;
  /** Loads a batch (the sample by default), records its files as persisted and runs the relationship step: RELATED. */
  related(client: string, batchDate?: string, rows?: Rows): Promise<Batch>;
  /** Invokes a handler as Lambda would, with the batch's current item as the record. */
  invoke(handler: StreamHandler, client: string, batchDate: string): Promise<KinesisStreamBatchResponse>;
  /** Whether a service's packaged stream filter lets the batch's current item through. */
  passes(serviceDir: string, client: string, batchDate: string): Promise<boolean>;
  batch(client: string, batchDate: string): Promise<Batch>;
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

export const context = {
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:000000000000:function:test`,
  memoryLimitInMB: '512',
  awsRequestId: 'test',
  logGroupName: 'test',
  logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

export async function startChain(): Promise<Chain> {
  const services = await startServices();
  try {
    const aws = testClients(services);
    const clients = storeClients(services);
    /** Creates a packaged stack's resources of one type as the local cloud would; returns their physical names. */
    const physical = new Map<string, Map<string, Physical>>();
    const createAll = async (serviceDir: string, type: string) => {
      if (!physical.has(serviceDir)) physical.set(serviceDir, new Map());
      return createStackResources(serviceDir, [type], clients, physical.get(serviceDir)!);
    };
    // The change feed first: the table names it.
    await createAll('metastore', 'AWS::Kinesis::Stream');
    const [metastoreTable] = await createAll('metastore', 'AWS::DynamoDB::Table');
    const metastore = createMetastore(aws.dynamo, metastoreTable!);
    const deps: StepDeps = { metastore, database: testDatabase(services, aws) };
    const quality = deployedQuality();
    const relate = createRelationship({ ...deps, quality });
    // As their Registration resources do on deploy: each with what it adds to the events.
    for (const definition of [deposit, transaction, tax]) await metastore.registerTransformer(definition.name, true, contributionOf(definition));
    const db = newPool({ connectionString: services.postgresUrl, max: 3 });
    const connection = await db.connect();
    await applyDdl(connection, BASE_TABLES_DDL).finally(() => connection.release());
    let sequence = 0;

    const chain: Chain = {
      services,
      aws,
      metastore,
      deps,
      quality,
      db,
      createAll,
      async load(client, batchDate, rows) {
        for (const type of FILE_TYPES) {
          const partition = `${type}_${client.toLowerCase().replace(/[^a-z0-9]/g, '_')}_${batchDate}`;
          await db.query(`DROP TABLE IF EXISTS ${partition}`);
          await db.query(`CREATE TABLE ${partition} PARTITION OF ${type} FOR VALUES FROM ('${client}', '${isoDate(batchDate)}') TO ('${client}', '${nextIsoDate(batchDate)}')`);
          for (const row of rows[type]) {
            const columns = ['client', 'batch_date', ...Object.keys(row)];
            const values = [client, isoDate(batchDate), ...Object.values(row)];
            await db.query(`INSERT INTO ${type} (${columns.join(', ')}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
          }
        }
      },
      async persist(client, batchDate, types = FILE_TYPES) {
        let batch: Batch | undefined;
        for (const type of types) {
          batch = await metastore.recordFile(client, batchDate, type, {
            status: 'PERSISTED',
            key: `incoming/${client}/${type}_${batchDate}.csv`,
            etag: `${type}-${sequence++}`,
            rows: 2,
            bytes: 100,
            errors: [],
            at: new Date().toISOString(),
          });
        }
        return batch!;
      },
      async event(client, batchDate, patch = {}) {
        const key = batchKey(client, batchDate);
        const { Item } = await clients.dynamodb.send(new GetItemCommand({ TableName: metastoreTable, Key: { pk: { S: key.pk }, sk: { S: key.sk } }, ConsistentRead: true }));
        if (!Item) throw new Error(`no batch ${client}/${batchDate}`);
        sequence += 1;
        const change = {
          awsRegion: REGION,
          eventID: `event-${sequence}`,
          eventName: 'MODIFY',
          recordFormat: 'application/json',
          tableName: metastoreTable,
          dynamodb: { ApproximateCreationDateTime: Date.now(), Keys: { pk: Item.pk!, sk: Item.sk! }, NewImage: { ...Item, ...patch }, SizeBytes: JSON.stringify(Item).length },
          eventSource: 'aws:dynamodb',
        };
        const sequenceNumber = String(1_000_000 + sequence);
        return {
          Records: [
            {
              kinesis: {
                kinesisSchemaVersion: '1.0',
                partitionKey: key.pk,
                sequenceNumber,
                data: Buffer.from(JSON.stringify(change)).toString('base64'),
                approximateArrivalTimestamp: Date.now() / 1000,
              },
              eventSource: 'aws:kinesis',
              eventVersion: '1.0',
              eventID: `shardId-000000000000:${sequenceNumber}`,
              eventName: 'aws:kinesis:record',
              invokeIdentityArn: `arn:aws:iam::000000000000:role/test`,
              awsRegion: REGION,
              eventSourceARN: `arn:aws:kinesis:${REGION}:000000000000:stream/dataharvest-metastore-changes-dev`,
            },
          ],
        } as KinesisStreamEvent;
      },
      async related(client, batchDate = SAMPLE_DATE, rows = sampleRows()) {
        await chain.load(client, batchDate, rows);
        await chain.persist(client, batchDate);
        const outcome = await chain.invoke(relate, client, batchDate);
        if (outcome.batchItemFailures.length) throw new Error('the relationship step failed');
        return chain.batch(client, batchDate);
      },
      async invoke(handler, client, batchDate) {
        return handler(await chain.event(client, batchDate), context);
      },
      async passes(serviceDir, client, batchDate) {
        const mapping = Object.values(loadStack(serviceDir).template.Resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
        const criteria = mapping?.Properties?.FilterCriteria as { Filters: Array<{ Pattern: string }> } | undefined;
        if (!criteria) throw new Error(`${serviceDir} has no event source mapping with filter criteria`);
        const filters = criteria.Filters.map((f) => f.Pattern);
        return compileFilters(filters)(kinesisFilterView((await chain.event(client, batchDate)).Records[0] as never));
      },
      async batch(client, batchDate) {
        const batch = await metastore.getBatch(client, batchDate);
        if (!batch) throw new Error(`no batch ${client}/${batchDate}`);
        return batch;
      },
      async query(sql, params) {
        return (await db.query(sql, params)).rows;
      },
      async stop() {
        // The handlers' pool first: PostgreSQL going away under idle connections would be an unhandled error.
        await deps.database.end();
        await db.end();
        await services.stop();
      },
    };
    return chain;
  } catch (error) {
    await services.stop();
    throw error;
  }
}
