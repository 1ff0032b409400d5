import { randomUUID } from 'node:crypto';
import { bufferingServer, type Listening, listenOnLoopback } from '../http';
import { ACCOUNT, REGION } from '../account';

/** One CloudFormation export of the local cloud, with the stack that exports it. */
export interface LocalExport {
  name: string;
  value: string;
  stackName: string;
}

export type CloudFormation = Listening;

/** As the templates' AWS::StackId resolves it. */
const stackId = (stackName: string) => `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stackName}/local`;
/** CloudFormation's own page size for ListExports. */
const PAGE_SIZE = 100;

const xmlText = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const xml = (status: number, body: string) => ({ status, body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}` });
const metadata = () => `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;
const error = (status: number, code: string, message: string) =>
  xml(status, `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlText(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);

/**
 * A small CloudFormation on loopback that answers ListExports (AWS query protocol: form-encoded POST, XML answer) for
 * the stacks the local cloud deployed, so that tools which find resources from a stage's exports (`dataharvest status
 * --stage S`) run against it as they do against AWS. It reads the exports at each request: a later deploy shows.
 */
export async function startCloudFormation(opts: { exports: () => LocalExport[]; pageSize?: number }): Promise<CloudFormation> {
  const pageSize = opts.pageSize ?? PAGE_SIZE;
  const listExports = (input: URLSearchParams) => {
    const all = opts.exports().sort((a, b) => a.name.localeCompare(b.name));
    const token = input.get('NextToken');
    const start = token ? Number(token) : 0;
    if (!Number.isInteger(start) || start < 0 || start > all.length) return error(400, 'ValidationError', `invalid NextToken ${token}`);
    const page = all.slice(start, start + pageSize);
    const members = page.map((e) => `<member><ExportingStackId>${xmlText(stackId(e.stackName))}</ExportingStackId><Name>${xmlText(e.name)}</Name><Value>${xmlText(e.value)}</Value></member>`).join('');
    const next = start + pageSize < all.length ? `<NextToken>${start + pageSize}</NextToken>` : '';
    return xml(
      200,
      `<ListExportsResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><ListExportsResult><Exports>${members}</Exports>${next}</ListExportsResult>${metadata()}</ListExportsResponse>`,
    );
  };

  const server = bufferingServer((req, body, res) => {
    const input = new URLSearchParams(req.method === 'POST' ? body.toString('utf8') : (req.url ?? '').split('?')[1]);
    const action = input.get('Action') ?? '';
    const answer = action === 'ListExports' ? listExports(input) : error(400, 'InvalidAction', `${action || 'this action'} is not supported by the local CloudFormation`);
    res.writeHead(answer.status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() }).end(answer.body);
  });
  return listenOnLoopback(server);
}
