import type { CopyStreamQuery } from 'pg-copy-streams';
import type { RowError } from '@dataharvest/events/batch';
import { isDataError } from '@dataharvest/shared/pg';

/** PostgreSQL quotes the offending value (`invalid input syntax for type date: "…"`): a report shows its length only. */
export const maskQuotedValues = (message: string) => message.replace(/"([^"]*)"/g, (_, value: string) => `(a value of ${[...value].length} characters)`);

/**
 * Writes to a COPY with backpressure. Should PostgreSQL refuse a value that the validator let through (SQLSTATE
 * class 22, data exception, or 23, integrity), that is the file's fault and becomes an error of the whole file, which
 * names the loaded row by its place (a binary COPY counts rows, not file lines); anything else (a lost connection) is
 * thrown, so that the load is retried.
 */
export class CopySink {
  private failed = false;
  private readonly done: Promise<void>;

  constructor(private readonly copy: CopyStreamQuery) {
    this.done = new Promise<void>((resolve, reject) => {
      copy.on('finish', resolve);
      copy.on('error', (e: Error) => {
        this.failed = true;
        reject(e);
      });
    });
    this.done.catch(() => undefined);
  }

  async write(chunk: Buffer): Promise<void> {
    // After an error the COPY is over; end() reports it.
    if (this.failed || this.copy.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const settle = () => {
        this.copy.off('drain', settle);
        this.copy.off('error', settle);
        resolve();
      };
      this.copy.on('drain', settle);
      this.copy.on('error', settle);
    });
  }

  /** Ends the COPY; the file's error when PostgreSQL refused the data. */
  async end(): Promise<RowError | undefined> {
    if (!this.failed) this.copy.end();
    try {
      await this.done;
      return undefined;
    } catch (error) {
      const e = error as Error & { where?: string };
      if (!isDataError(e)) throw error;
      const row = /line (\d+)/.exec(e.where ?? '')?.[1];
      return { line: 1, reason: `the database refused ${row ? `loaded row ${row}` : 'the data'}: ${maskQuotedValues(e.message)}` };
    }
  }

  /** Abandons the COPY (pg-copy-streams sends CopyFail) and waits until the connection is usable again. */
  async abort(): Promise<void> {
    if (!this.failed) this.copy.destroy(new Error('the file is invalid'));
    await this.done.catch(() => undefined);
  }
}
