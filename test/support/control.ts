import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import { columnForHeader } from '@dataharvest/events/file-schemas';

/** A line's figures to change: what a control file would say if the client's totals were off. */
export type ControlChanges = Partial<Record<FileType, Partial<{ rows: number; money_sum: string; sha256: string }>>>;

const cents = (v: string) => Math.round(Number(v) * 100);

/**
 * The control file a client would send for a batch folder of unquoted CSV files (the sample batch): each file's rows,
 * the sum of its money columns and its SHA-256, with `changes` applied.
 */
export function controlText(dir: string, changes: ControlChanges = {}): string {
  const lines = ['type,rows,money_sum,sha256'];
  for (const type of FILE_TYPES) {
    const name = readdirSync(dir).find((f) => f.startsWith(`${type}_`))!;
    const bytes = readFileSync(join(dir, name));
    const [header = '', ...rows] = bytes.toString('utf8').trim().split('\n');
    const money = header.split(',').flatMap((h, i) => (columnForHeader(type, h)?.kind === 'money' ? [i] : []));
    const sum = rows.reduce((total, row) => total + money.reduce((s, i) => s + cents(row.split(',')[i]!), 0), 0);
    const figures = { rows: rows.length, money_sum: (sum / 100).toFixed(2), sha256: createHash('sha256').update(bytes).digest('hex'), ...changes[type] };
    lines.push(`${type},${figures.rows},${figures.money_sum},${figures.sha256}`);
  }
  return `${lines.join('\n')}\n`;
}
