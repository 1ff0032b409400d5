import { type Batch, FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import { type Quality, type QualityOutcome, QualityOverrides, QualityRules, type RuleConfig, type RuleResult } from '@dataharvest/events/quality';
import { codeDigest } from '@dataharvest/events/lineage';
import { z } from 'zod';
import { ISSUE_KINDS, type IssueKind } from './sql';
import { judgeVolume, VOLUME_RULES, type VolumeMeasure } from './volume';

/** The file whose rows each relationship check examines: its share is counted against that file's rows. */
const EXAMINES: Record<IssueKind, FileType> = {
  portfolio_without_client: 'portfolios',
  portfolio_without_account: 'portfolios',
  transaction_without_account: 'transactions',
  account_without_portfolio: 'accounts',
  client_without_portfolio: 'clients',
  duplicate_portfolio_reference: 'portfolios',
  duplicate_client_reference: 'clients',
  duplicate_account_number: 'accounts',
};

/** The per-file check: rows a lenient load rejected, of the rows the file had. */
const rejectedRule = (type: FileType) => `${type}_rejected_rows`;

/** Every rule there is: the deploy config must give each its severity, and may name no other. */
export const RULE_NAMES: readonly string[] = [...ISSUE_KINDS, ...FILE_TYPES.map(rejectedRule), ...VOLUME_RULES.map((r) => r.rule)];

/** What the relationship function evaluates batches against, as its deploy config states it. */
export interface QualityConfig {
  rules: QualityRules;
  overrides: QualityOverrides;
}

/** A JSON environment variable, parsed and validated as part of the function's configuration. */
export const json = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not JSON: ${(error as Error).message}` });
        return z.NEVER;
      }
    })
    .pipe(schema);

const unknownRules = (names: string[]) => names.filter((n) => !RULE_NAMES.includes(n));

const Rules = json(QualityRules).superRefine((rules, ctx) => {
  const missing = RULE_NAMES.filter((n) => !(n in rules));
  if (missing.length) ctx.addIssue({ code: 'custom', message: `no severity for ${missing.join(', ')}` });
  const unknown = unknownRules(Object.keys(rules));
  if (unknown.length) ctx.addIssue({ code: 'custom', message: `unknown rule ${unknown.join(', ')}; rules are ${RULE_NAMES.join(', ')}` });
});

const Overrides = json(QualityOverrides).superRefine((overrides, ctx) => {
  for (const [client, o] of Object.entries(overrides)) {
    const unknown = unknownRules(Object.keys(o.rules));
    if (unknown.length) ctx.addIssue({ code: 'custom', message: `override ${o.name} of client ${client}: unknown rule ${unknown.join(', ')}` });
  }
});

/** The relationship function's variables for the rules (serverless.yml's qualityRules and qualityOverrides params). */
export const QualityEnv = { QUALITY_RULES: Rules, QUALITY_OVERRIDES: Overrides };

/** One rule's measurement on a batch: a count of the rows examined, or a volume against the client's history. */
export type Measure = { rule: string; count: number; total: number } | VolumeMeasure;

/** The batch's measurements: the relationship checks' issue counts and each file's rejected rows. */
export function measures(batch: Pick<Batch, 'files'>, issues: Record<string, number>, rows: Record<FileType, number>): { rule: string; count: number; total: number }[] {
  const checks = ISSUE_KINDS.map((kind) => ({ rule: kind, count: issues[kind] ?? 0, total: rows[EXAMINES[kind]] }));
  const files = FILE_TYPES.map((type) => {
    const rejected = batch.files[type]?.rejected_rows ?? 0;
    return { rule: rejectedRule(type), count: rejected, total: (batch.files[type]?.rows ?? 0) + rejected };
  });
  return [...checks, ...files];
}

function judgeShare({ severity, threshold }: RuleConfig, count: number, ratio: number): QualityOutcome {
  if (count === 0) return 'PASS';
  return severity === 'error' && ratio > (threshold ?? 0) ? 'FAIL' : 'WARN';
}

/** A measure's result under one config, without its outcome's override handling. */
function judge(config: RuleConfig, measure: Measure): Omit<RuleResult, 'rule' | 'severity'> {
  if ('value' in measure) {
    const { outcome, ...band } = judgeVolume(config, measure);
    const extra = { ...(config.threshold === undefined ? {} : { threshold: config.threshold }), ...band };
    return { count: outcome === 'PASS' ? 0 : 1, value: measure.value, history: measure.history.length, ...extra, outcome };
  }
  const { count, total } = measure;
  const ratio = total > 0 ? count / total : count > 0 ? 1 : 0;
  return { count, total, ratio, ...(config.threshold === undefined ? {} : { threshold: config.threshold }), outcome: judgeShare(config, count, ratio) };
}

const WORST: readonly QualityOutcome[] = ['FAIL', 'OVERRIDDEN', 'WARN', 'PASS'];

/**
 * Holds a batch's measurements to the client's rules: the defaults, with the client's override on top. A rule the
 * override lets through that the defaults would fail is OVERRIDDEN, so the batch item records the exception taken.
 */
export function evaluate(config: QualityConfig, client: string, batchMeasures: Measure[]): Quality {
  const override = config.overrides[client];
  const rules = batchMeasures.map((measure): RuleResult => {
    const defaults = config.rules[measure.rule];
    if (!defaults) throw new Error(`no configuration for data-quality rule ${measure.rule}`);
    const effective = { ...defaults, ...override?.rules[measure.rule] };
    const judged = judge(effective, measure);
    const outcome = judged.outcome !== 'FAIL' && judge(defaults, measure).outcome === 'FAIL' ? 'OVERRIDDEN' : judged.outcome;
    return { rule: measure.rule, severity: effective.severity, ...judged, outcome };
  });
  const outcome = WORST.find((o) => rules.some((r) => r.outcome === o)) ?? 'PASS';
  return { outcome, rules, ...(override ? { override: override.name } : {}), rules_digest: codeDigest(config.rules, override ?? null) };
}

/** The reason a failed batch gives: each failing rule with its counts (no references: those stay in the database). */
export function failureReason(quality: Quality): string {
  const failed = quality.rules.filter((r) => r.outcome === 'FAIL');
  const percent = (x: number) => `${(x * 100).toFixed(2)}%`;
  const found = (r: RuleResult) =>
    r.value === undefined
      ? `${r.rule} ${r.count} of ${r.total} rows (${percent(r.ratio ?? 0)}, threshold ${percent(r.threshold ?? 0)})`
      : `${r.rule} ${r.value} outside ${r.low}..${r.high} (median ${r.median} of the last ${r.history} batches)`;
  return `data-quality rules failed: ${failed.map(found).join('; ')}`;
}
