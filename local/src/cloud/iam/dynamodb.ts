import { UnreadableRequest, type Permission } from './request';
import { arn } from '../account';

type Input = Record<string, unknown>;

/** A table named by name or by ARN (DynamoDB accepts both), plus an index when one is read. */
const tableArn = (table: unknown, index?: unknown) => {
  const name = String(table);
  return `${name.startsWith('arn:') ? name : arn.table(name)}${index ? `/index/${String(index)}` : ''}`;
};

/** TransactWriteItems' item kinds and the action each one needs. */
const TRANSACT_WRITES: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' };

/**
 * The permissions a DynamoDB call needs, as IAM's service authorization reference lists them: a call without a
 * table (ListTables, DescribeLimits) on `*`, transactions per item and table, PartiQL by each statement's verb on
 * the table it names. A request whose tables cannot be read is refused rather than let through.
 */
export function dynamodbPermissions(operation: string, input: Input): Permission[] {
  const action = (name: string) => `dynamodb:${name}`;
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(object(input.RequestItems, 'RequestItems')).map((t) => ({ action: action(operation), resource: tableArn(t) }));
    case 'TransactGetItems':
      return items(input.TransactItems).map((item) => ({ action: action('GetItem'), resource: tableArn(named(object(item.Get, 'TransactItems[].Get'))) }));
    case 'TransactWriteItems':
      return items(input.TransactItems).map((item) => {
        const kind = Object.keys(TRANSACT_WRITES).find((k) => item[k] !== undefined);
        if (!kind) throw new UnreadableRequest('a TransactWriteItems item is none of Put, Update, Delete, ConditionCheck');
        return { action: action(TRANSACT_WRITES[kind]!), resource: tableArn(named(item[kind] as Input)) };
      });
    case 'ExecuteStatement':
      return [partiql(input.Statement)];
    case 'BatchExecuteStatement':
      return items(input.Statements).map((s) => partiql(s.Statement));
    case 'ExecuteTransaction':
      return items(input.TransactStatements).map((s) => partiql(s.Statement));
  }
  if (input.TableName === undefined) return [{ action: action(operation), resource: '*' }];
  return [{ action: action(operation), resource: tableArn(input.TableName, input.IndexName) }];
}

function object(value: unknown, what: string): Input {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UnreadableRequest(`${what} is not an object`);
  return value as Input;
}
function items(value: unknown): Input[] {
  if (!Array.isArray(value)) throw new UnreadableRequest('the list of items or statements is missing');
  return value.map((v) => object(v, 'an item'));
}
function named(item: Input): string {
  if (typeof item.TableName !== 'string') throw new UnreadableRequest('an item names no TableName');
  return item.TableName;
}

/** PartiQL's tokens that matter here: quoted identifiers, string literals (skipped), words and dots. */
const TOKEN = /\s+|"((?:[^"]|"")*)"|'(?:[^']|'')*'|([A-Za-z_][A-Za-z0-9_.-]*)|(.)/gy;
const VERBS: Record<string, { action: string; before: string }> = {
  SELECT: { action: 'dynamodb:PartiQLSelect', before: 'FROM' },
  EXISTS: { action: 'dynamodb:PartiQLSelect', before: 'FROM' },
  INSERT: { action: 'dynamodb:PartiQLInsert', before: 'INTO' },
  UPDATE: { action: 'dynamodb:PartiQLUpdate', before: 'UPDATE' },
  DELETE: { action: 'dynamodb:PartiQLDelete', before: 'FROM' },
};

/** The action and table (or index: `"table"."index"`) of one PartiQL statement. */
export function partiql(statement: unknown): Permission {
  if (typeof statement !== 'string') throw new UnreadableRequest('a PartiQL statement is missing');
  const tokens: Array<{ word?: string; quoted?: string; other?: string }> = [];
  for (const m of statement.matchAll(TOKEN)) {
    if (m[1] !== undefined) tokens.push({ quoted: m[1].replaceAll('""', '"') });
    else if (m[2] !== undefined) tokens.push({ word: m[2] });
    else if (m[3] !== undefined) tokens.push({ other: m[3] });
  }
  const verb = VERBS[tokens[0]?.word?.toUpperCase() ?? ''];
  // EXISTS wraps a SELECT; its FROM is still the first one outside string literals and quoted names.
  const at = verb ? tokens.findIndex((t, i) => (i > 0 || verb.before === 'UPDATE') && t.word?.toUpperCase() === verb.before) : -1;
  const name = (t: (typeof tokens)[number] | undefined) => t?.quoted ?? t?.word;
  const table = name(tokens[at + 1]);
  if (!verb || at < 0 || !table) throw new UnreadableRequest(`the PartiQL statement "${statement.slice(0, 60)}" names no table the local IAM proxy can read`);
  // An unquoted name may hold the dot itself: table.index.
  const [plain, dotted] = tokens[at + 1]?.word?.split('.') ?? [table];
  const index = tokens[at + 2]?.other === '.' ? name(tokens[at + 3]) : dotted;
  return { action: verb.action, resource: tableArn(tokens[at + 1]?.word ? plain : table, index) };
}
