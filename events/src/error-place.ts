import type { RowError } from './batch';

/**
 * Where an error is, as people read it: `line 3, column amount`. A header column whose name is not shown (not a
 * safe snake_case name) is reported as `column 6` already, and stays that rather than `column column 6`.
 */
export const errorPlace = ({ line, column }: Pick<RowError, 'line' | 'column'>) => `line ${line}${column ? `, ${column.startsWith('column ') ? column : `column ${column}`}` : ''}`;
