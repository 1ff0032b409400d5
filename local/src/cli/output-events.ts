import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { PortfolioEvent } from '@dataharvest/events/portfolio-event';
import { StreamReader } from './stream-reader';

/** Every portfolio event on the output stream, oldest first (a consumer's view, from TRIM_HORIZON). */
export async function readOutputEvents(kinesis: KinesisClient, streamName: string): Promise<PortfolioEvent[]> {
  return (await new StreamReader(kinesis, streamName).read()).map((data) => PortfolioEvent.parse(data));
}

/** The latest version of each portfolio's event for one batch: what a downstream consumer ends up with. */
export function latestForBatch(events: PortfolioEvent[], client: string, batchDate: string): PortfolioEvent[] {
  const latest = new Map<string, PortfolioEvent>();
  for (const e of events) {
    if (e.client !== client || e.batch_date !== batchDate) continue;
    const seen = latest.get(e.portfolio_reference);
    if (!seen || e.version >= seen.version) latest.set(e.portfolio_reference, e);
  }
  return [...latest.values()].sort((a, b) => a.portfolio_reference.localeCompare(b.portfolio_reference));
}
