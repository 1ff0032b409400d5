import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudError } from './errors';

/**
 * CloudFormation custom resources: the function named by ServiceToken gets the Create request and answers by
 * PUTting its response to ResponseURL, here a small loopback server.
 */
export class CustomResources {
  private server?: Server;
  private readonly waiting = new Map<string, (body: { Status: string; Reason?: string }) => void>();

  private async url(): Promise<string> {
    if (!this.server) {
      this.server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => { body += c.toString(); });
        req.on('end', () => {
          const id = req.url!.slice(1);
          this.waiting.get(id)?.(JSON.parse(body || '{}'));
          this.waiting.delete(id);
          res.end();
        });
      });
      await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    }
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async create(opts: { stackName: string; logicalId: string; type: string; properties: Record<string, unknown>; invoke: (event: unknown) => Promise<unknown> }): Promise<void> {
    const id = randomUUID();
    const response = new Promise<{ Status: string; Reason?: string }>((resolve) => this.waiting.set(id, resolve));
    const event = {
      RequestType: 'Create', ServiceToken: opts.properties.ServiceToken, ResponseURL: `${await this.url()}/${id}`,
      StackId: `arn:aws:cloudformation:local:000000000000:stack/${opts.stackName}/${id}`, RequestId: id,
      LogicalResourceId: opts.logicalId, ResourceType: opts.type, ResourceProperties: opts.properties,
    };
    await opts.invoke(event);
    const answer = await Promise.race([response, new Promise<never>((_, reject) => setTimeout(() => reject(new CloudError(`${opts.stackName}: custom resource ${opts.logicalId} never answered`)), 30_000))]);
    if (answer.Status !== 'SUCCESS') throw new CloudError(`${opts.stackName}: custom resource ${opts.logicalId} failed: ${answer.Reason ?? 'no reason given'}`);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
