/**
 * An error as it may be logged or recorded: its name, SQLSTATE and message with every quoted or keyed value masked.
 * PostgreSQL puts the offending values into `detail` (`Key (account_number)=(…) already exists`), `where` and the
 * message (`invalid input syntax for type numeric: "…"`); the logger would print every one of an error's fields.
 */
export interface SafeError {
  name: string;
  code?: string;
  message: string;
}

/** Quoted values and `(column)=(values)` pairs: what PostgreSQL and our own messages quote from the data. */
export const maskValues = (message: string) => message.replace(/\(([^()]*)\)=\(([^()]*)\)/g, '($1)=(…)').replace(/"([^"]*)"/g, (_, value: string) => `(a value of ${[...value].length} characters)`);

export function safeError(error: unknown): SafeError {
  if (!(error instanceof Error)) return { name: 'Error', message: maskValues(String(error)) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: maskValues(error.message) };
}
