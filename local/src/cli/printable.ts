/** The short escapes JSON uses; any other control character is written `\uXXXX`. */
const SHORT: Record<string, string> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };
const CONTROL = /\p{Cc}/gu;

/**
 * Text as a terminal may print it: every control character (C0, DEL and C1, Unicode's `Cc`) escaped as JSON escapes
 * it, so that a key or reason from an upload can neither start a terminal escape sequence (ESC, CSI) nor break or
 * overwrite a line (LF, CR). JSON leaves DEL and C1 as they are; this does not, as a terminal may act on them. Only
 * the text forms need it: `--json` output is JSON already.
 */
export const printable = (text: string): string => text.replace(CONTROL, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
