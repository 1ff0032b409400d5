import { conditionValues } from '../src/cloud/cloudformation/conditions';
import { Resolver, type Stack, type Template } from '../src/cloud/cloudformation/template';

const template: Template = {
  Parameters: { ReaderInstance: { Type: 'String', Default: 'false' } },
  Conditions: {
    WithReader: { 'Fn::Equals': [{ Ref: 'ReaderInstance' }, 'true'] },
    WithoutReader: { 'Fn::Not': [{ Condition: 'WithReader' }] },
    Both: { 'Fn::And': [{ Condition: 'WithReader' }, { Condition: 'WithoutReader' }] },
    Either: { 'Fn::Or': [{ Condition: 'WithReader' }, { Condition: 'WithoutReader' }] },
  },
  Resources: {},
};
const stack = (t: Template): Stack => ({ service: 's', dir: '.', stackName: 's-dev', stage: 'dev', template: t });
const values = (t: Template, parameters: Record<string, string>) => Object.fromEntries(conditionValues(t, new Resolver(stack(t), new Map(), {}, parameters), 's-dev'));

describe("a template's conditions in the local cloud", () => {
  it('evaluates Fn::Equals over parameters, and Fn::Not, Fn::And, Fn::Or and Condition over each other', () => {
    expect(values(template, { ReaderInstance: 'false' })).toEqual({ WithReader: false, WithoutReader: true, Both: false, Either: true });
    expect(values(template, { ReaderInstance: 'true' })).toEqual({ WithReader: true, WithoutReader: false, Both: false, Either: true });
  });

  it('refuses what it does not evaluate, an undeclared condition and a cycle', () => {
    expect(() => values({ ...template, Conditions: { X: { 'Fn::Contains': [['a'], 'a'] } } }, {})).toThrow(/Fn::Contains in a condition is not evaluated/);
    expect(() => values({ ...template, Conditions: { X: { Condition: 'Nope' } } }, {})).toThrow(/condition Nope is not declared/);
    expect(() => values({ ...template, Conditions: { X: { Condition: 'Y' }, Y: { 'Fn::Not': [{ Condition: 'X' }] } } }, {})).toThrow(/refer to each other: X -> Y -> X/);
  });
});
