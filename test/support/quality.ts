import { readConfig } from '@dataharvest/shared/config';
import { type QualityConfig, QualityEnv } from '../../services/relationship/src/quality';
import { loadStack } from '../../local/src/cloud/cloudformation/template';

/** The relationship function's environment as `npm run package` wrote it into its template. */
export function packagedRelationshipEnv(dir = 'services/relationship'): Record<string, string> {
  const fn = Object.values(loadStack(dir).template.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && 'QUALITY_RULES' in ((r.Properties?.Environment as { Variables?: object })?.Variables ?? {}),
  );
  if (!fn) throw new Error(`${dir} packages no function with QUALITY_RULES`);
  return (fn.Properties!.Environment as { Variables: Record<string, string> }).Variables;
}

/** The data-quality rules the packaged relationship function is deployed with, read as the function reads them. */
export function deployedQuality(dir?: string): QualityConfig {
  const config = readConfig(QualityEnv, packagedRelationshipEnv(dir));
  return { rules: config.QUALITY_RULES, overrides: config.QUALITY_OVERRIDES };
}
