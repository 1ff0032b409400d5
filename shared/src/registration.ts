import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { logger } from './logger';
import { deregisterTransformer, registerTransformer } from './metastore';

/**
 * The custom resource through which a transformer service adds itself to the metastore's registry when it is
 * deployed (and leaves it when its stack is deleted): no other service has to change for a new transformer.
 */
export async function registrationHandler(event: CloudFormationCustomResourceEvent): Promise<void> {
  const name = String(event.ResourceProperties.Name);
  const required = String(event.ResourceProperties.Required ?? 'true') === 'true';
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason: string | undefined;
  try {
    if (event.RequestType === 'Delete') {
      await deregisterTransformer(name);
    } else {
      await registerTransformer(name, required);
    }
  } catch (error) {
    status = 'FAILED';
    reason = (error as Error).message;
    logger.error('registration failed', { error: error as Error });
  }
  await fetch(event.ResponseURL, {
    method: 'PUT',
    body: JSON.stringify({
      Status: status, Reason: reason, PhysicalResourceId: `transformer-${name}`, StackId: event.StackId, RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId, Data: { Name: name },
    }),
  });
}
