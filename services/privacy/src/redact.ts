/** What replaces an erased value in a report or a quarantined file. */
export const ERASED = '[erased]';

const fieldsOf = (line: string) =>
  line
    .replace(/\r?\n$/, '')
    .split(',')
    .map((f) => f.trim().replace(/^"|"$/g, '').trim().toLowerCase());

/**
 * The CSV text without the lines that hold one of `values` as a field (compared without quotes, in lower case): the
 * person's rows. The header stays, unless it is a row itself (a headerless file). A quoted value spanning lines is
 * judged line by line.
 */
export function withoutRows(text: string, values: ReadonlySet<string>): string {
  const wanted = new Set([...values].map((v) => v.toLowerCase()));
  return text
    .split(/(?<=\n)/)
    .filter((line) => !fieldsOf(line).some((f) => wanted.has(f)))
    .join('');
}

const literal = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The text with every whole-word occurrence of `values` (case aside) replaced by ERASED. */
export function redacted(text: string, values: readonly string[]): string {
  const words = values.filter((v) => v.length > 0);
  if (!words.length) return text;
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${words.map(literal).join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  return text.replace(pattern, ERASED);
}

const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The UUID-shaped tokens of a text, in lower case: where a reference known only by its hash may be. */
export const uuidsIn = (text: string) => new Set([...text.matchAll(UUIDS)].map((m) => m[0].toLowerCase()));
