import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Contribution, RegistryEntry } from '@dataharvest/events/batch';
import { RESERVED_FIELDS } from '@dataharvest/events/portfolio-event';
import { awsClients } from './aws';
import { readConfig } from './config';
import { builtOnFirstEvent, lambda } from './handler';
import { logger } from './logger';
import { safeError } from './safe-error';
import { createMetastore, type Metastore, MetastoreEnv } from './metastore';

/**
 * The handler of a transformer service's `Custom::TransformerRegistration` resource (properties Name, Required):
 * deploying the service adds its registry entry, deleting the stack removes it, so no other service changes for a
 * new transformer. CloudFormation waits for the answer PUT to ResponseURL, so one is sent whatever happens.
 */
export const createRegistration = (metastore: Metastore, contribution?: Contribution) =>
  lambda(async (event: CloudFormationCustomResourceEvent): Promise<void> => {
    const name = String(event.ResourceProperties.Name);
    // CloudFormation passes every property as a string.
    const required = String(event.ResourceProperties.Required ?? 'true') === 'true';
    let outcome: { Status: 'SUCCESS' | 'FAILED'; Reason?: string } = { Status: 'SUCCESS' };
    try {
      if (event.RequestType === 'Delete') await metastore.deregisterTransformer(name);
      else if (contribution) await registerOwnFields(metastore, name, required, contribution);
      else await metastore.registerTransformer(name, required);
      logger.info('registry updated', { request: event.RequestType, transformer: name, required });
    } catch (error) {
      outcome = { Status: 'FAILED', Reason: (error as Error).message };
      logger.error('registration failed', { request: event.RequestType, transformer: name, error: safeError(error) });
    }
    const response = await fetch(event.ResponseURL, {
      method: 'PUT',
      // The pre-signed S3 URL is signed without a content type: sending one would break the signature.
      headers: { 'content-type': '' },
      body: JSON.stringify({
        ...outcome,
        PhysicalResourceId: `transformer-${name}`,
        StackId: event.StackId,
        RequestId: event.RequestId,
        LogicalResourceId: event.LogicalResourceId,
        Data: { Name: name },
      }),
    });
    if (!response.ok) throw new Error(`CloudFormation response refused: HTTP ${response.status}`);
  });

/** A registration function's Lambda handler, on the metastore table its environment names. */
export const registrationHandler = (contribution?: Contribution) =>
  builtOnFirstEvent(() => createRegistration(createMetastore(awsClients().dynamo, readConfig(MetastoreEnv, process.env).METASTORE_TABLE), contribution));

/**
 * A field of the event belongs to one transformer: one that claims another's (or the core's) fails the deploy.
 * Checked before writing (the registry stays as it was) and again after, since transformer stacks deploy at once:
 * of two writing at once, at least one reads the other's entry (reads are consistent), so no field gets two owners;
 * the one refused puts its previous entry back.
 */
async function registerOwnFields(metastore: Metastore, name: string, required: boolean, contribution: Contribution): Promise<void> {
  const before = await metastore.listRegistry();
  assertOwnFields(before, name, contribution);
  await metastore.registerTransformer(name, required, contribution);
  try {
    assertOwnFields(await metastore.listRegistry(), name, contribution);
  } catch (error) {
    const previous = before.find((e) => e.name === name);
    if (previous) await metastore.registerTransformer(name, previous.required, previous.contribution);
    else await metastore.deregisterTransformer(name);
    throw error;
  }
}

function assertOwnFields(registry: RegistryEntry[], name: string, contribution: Contribution): void {
  const owners = new Map<string, string>(RESERVED_FIELDS.map((f) => [f, 'the event core']));
  for (const entry of registry) if (entry.name !== name) for (const f of Object.keys(entry.contribution?.fields ?? {})) owners.set(f, entry.name);
  const taken = Object.keys(contribution.fields).filter((f) => owners.has(f));
  if (taken.length) throw new Error(`${name} contributes ${taken.map((f) => `${f} (already ${owners.get(f)}'s)`).join(', ')}: name its fields after itself`);
}
