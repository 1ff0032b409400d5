import { z } from 'zod';

/**
 * Data-quality rules: the configuration the relationship step evaluates a batch against, and the outcome it records
 * on the batch item (`quality`). docs/data-quality.md describes the rules and how to override them.
 */

export const Severity = z.enum(['warning', 'error']);
export type Severity = z.infer<typeof Severity>;

/** PASS: nothing found. WARN: found, reported, let through. FAIL: fails the batch. OVERRIDDEN: would fail, a deployed override let it through. */
export const QualityOutcome = z.enum(['PASS', 'WARN', 'FAIL', 'OVERRIDDEN']);
export type QualityOutcome = z.infer<typeof QualityOutcome>;

/**
 * One rule as deployed. A warning is reported and never fails the batch; an error fails it once the share of the
 * rows the rule examines exceeds `threshold` (none: any one row fails it). A volume rule (`<type>_row_volume`,
 * `<type>_money_volume`) is outside its band beyond the trailing median ± max(k × MAD, threshold × |median|), once it
 * has `min_history` earlier batches.
 */
export const RuleConfig = z.strictObject({
  severity: Severity,
  threshold: z.number().min(0).max(1).optional(),
  k: z.number().positive().optional(),
  min_history: z.number().int().positive().optional(),
});
export type RuleConfig = z.infer<typeof RuleConfig>;

/** The defaults (QUALITY_RULES): every rule, by name. */
export const QualityRules = z.record(z.string(), RuleConfig);
export type QualityRules = z.infer<typeof QualityRules>;

/** One client's deliberate exception (QUALITY_OVERRIDES, by client): named, so the batch item says which let it through. */
export const QualityOverride = z.strictObject({ name: z.string().min(1), rules: z.record(z.string(), RuleConfig.partial()) });
export type QualityOverride = z.infer<typeof QualityOverride>;
export const QualityOverrides = z.record(z.string(), QualityOverride);
export type QualityOverrides = z.infer<typeof QualityOverrides>;

/** What one rule found: `count` of `total` rows examined, and the threshold it was held to. */
export const RuleResult = z.object({
  rule: z.string(),
  severity: Severity,
  count: z.number().int().nonnegative(),
  total: z.number().int().nonnegative().optional(),
  ratio: z.number().optional(),
  threshold: z.number().optional(),
  outcome: QualityOutcome,
  /** A volume rule: today's figure, the trailing median, the band it was held to and how many batches made it. */
  value: z.number().optional(),
  median: z.number().optional(),
  low: z.number().optional(),
  high: z.number().optional(),
  history: z.number().int().nonnegative().optional(),
  /** Why the rule passed without judging (too little history). */
  note: z.string().optional(),
});
export type RuleResult = z.infer<typeof RuleResult>;

/** The batch item's `quality`: the worst rule outcome, every rule's result, and the override in effect if any. */
export const Quality = z.object({
  outcome: QualityOutcome,
  rules: z.array(RuleResult),
  override: z.string().optional(),
  /** The code digest of the rule set the batch was held to (the defaults and the client's override), for lineage. */
  rules_digest: z.string().optional(),
});
export type Quality = z.infer<typeof Quality>;
