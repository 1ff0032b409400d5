import { randomUUID } from 'node:crypto';
import { CloudError } from '../errors';
import { bufferingServer, type Listening, listenOnLoopback } from '../http';
import { ACCOUNT, REGION } from '../account';
import { functionName, type ResourceProvider } from './provider';

interface Response {
  Status?: string;
  Reason?: string;
  PhysicalResourceId?: string;
  Data?: Record<string, unknown>;
}

/**
 * A Lambda must have answered before it returns (it is frozen afterwards); the PUT may still be in flight when the
 * invocation's result arrives, hence a short grace rather than CloudFormation's hour.
 */
const ANSWER_GRACE_MS = 5000;

/**
 * CloudFormation custom resources: the function named by ServiceToken gets the Create request and answers by
 * PUTting its response to ResponseURL, here a small loopback server.
 */
export class CustomResources {
  private server?: Promise<Listening>;
  private readonly waiting = new Map<string, (body: Response) => void>();

  private async url(): Promise<string> {
    this.server ??= listenOnLoopback(
      bufferingServer((req, raw, res) => {
        const id = req.url!.slice(1);
        const body = raw.toString();
        let answer: Response;
        try {
          answer = JSON.parse(body || '{}') as Response;
        } catch {
          answer = { Status: 'FAILED', Reason: `the response is not JSON: ${body.slice(0, 200)}` };
        }
        this.waiting.get(id)?.(answer);
        this.waiting.delete(id);
        res.end();
      }),
    );
    return (await this.server).endpoint;
  }

  /** Sends the Create request; resolves with what Ref (PhysicalResourceId) and Fn::GetAtt (Data) then answer. */
  async create(opts: {
    stackName: string;
    logicalId: string;
    type: string;
    properties: Record<string, unknown>;
    invoke: (event: unknown) => Promise<unknown>;
  }): Promise<{ physicalId: string; data: Record<string, string> }> {
    const id = randomUUID();
    const failed = (reason: string, options?: ErrorOptions) => new CloudError(`${opts.stackName}: custom resource ${opts.logicalId} failed: ${reason}`, options);
    const response = new Promise<Response>((resolve) => this.waiting.set(id, resolve));
    const event = {
      RequestType: 'Create',
      ServiceToken: opts.properties.ServiceToken,
      ResponseURL: `${await this.url()}/${id}`,
      StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${opts.stackName}/${id}`,
      RequestId: id,
      LogicalResourceId: opts.logicalId,
      ResourceType: opts.type,
      ResourceProperties: opts.properties,
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      await opts.invoke(event).catch((e: Error) => {
        throw failed(e.message, { cause: e });
      });
      const answer = await Promise.race([
        response,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(failed('the function returned without answering to ResponseURL')), ANSWER_GRACE_MS);
        }),
      ]);
      if (answer.Status !== 'SUCCESS') throw failed(answer.Reason ?? 'no reason given');
      const data = Object.fromEntries(Object.entries(answer.Data ?? {}).map(([k, v]) => [k, String(v)]));
      return { physicalId: answer.PhysicalResourceId ?? `${opts.stackName}-${opts.logicalId}`, data };
    } finally {
      clearTimeout(timer);
      this.waiting.delete(id);
    }
  }

  async stop(): Promise<void> {
    await (await this.server)?.stop();
  }
}

/** Lambda-backed custom resources (`Custom::*` and AWS::CloudFormation::CustomResource): the function creates them. */
export const customResources: ResourceProvider = {
  types: ['AWS::CloudFormation::CustomResource'],
  async create({ cloud, stack, logicalId, resource, props }) {
    const properties = props();
    const token = String(properties.ServiceToken);
    if (!token.startsWith('arn:aws:lambda:')) throw new CloudError(`${stack.stackName}: custom resource ${logicalId} has ServiceToken ${token}; the local cloud runs only Lambda-backed ones`);
    const { physicalId, data } = await cloud.customResourceRequests.create({
      stackName: stack.stackName,
      logicalId,
      type: resource.Type,
      properties,
      invoke: (e) => cloud.runtime.invoke(functionName(token), e, 'cloudformation'),
    });
    return { ref: physicalId, attributes: data };
  },
};
