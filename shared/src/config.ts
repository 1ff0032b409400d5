import { z } from 'zod';

/** Reads and validates a function's environment once, failing fast with the names that are missing. */
export function readConfig<T extends z.ZodRawShape>(shape: T, env: NodeJS.ProcessEnv): z.infer<z.ZodObject<T>> {
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid function configuration: ${problems}`);
  }
  return parsed.data;
}
