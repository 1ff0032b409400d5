import { buffer } from 'node:stream/consumers';
import { FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import { generateFile } from '../../local/src/generate/index';

export const DATE = '20200130';

/** One batch's four files, by type: generated, seeded, the same bytes whichever client uploads them. */
export type Input = Record<FileType, Buffer>;
export const fileName = (type: FileType) => `${type}_${DATE}.csv`;

export interface InputSpec {
  /** Rows of accounts, clients and portfolios (one each per account). */
  holders: number;
  transactions: number;
  /** The transactions file's seed: another seed is a corrected file of the same accounts. */
  transactionSeed?: number;
}

/** The inputs the scenarios use, by name: small enough that a run takes seconds, large ones where a COPY must last. */
export const INPUTS = {
  small: { holders: 40, transactions: 400 },
  corrected: { holders: 40, transactions: 400, transactionSeed: 2 },
  tiny: { holders: 3, transactions: 12 },
  // About 9 MB of transactions: its COPY lasts long enough to be interrupted.
  large: { holders: 500, transactions: 200_000 },
  // About 3 MB of transactions: some fifty chunks of 64 KiB.
  chunked: { holders: 200, transactions: 60_000 },
} satisfies Record<string, InputSpec>;
export type InputName = keyof typeof INPUTS;

const made = new Map<InputName, Promise<Input>>();

export function input(name: InputName): Promise<Input> {
  let files = made.get(name);
  if (!files) {
    const spec: InputSpec = INPUTS[name];
    files = (async () => {
      const entries = await Promise.all(
        FILE_TYPES.map(async (type) => {
          const transactions = type === 'transactions';
          const file = generateFile({ type, rows: transactions ? spec.transactions : spec.holders, seed: transactions ? (spec.transactionSeed ?? 1) : 1, accounts: spec.holders });
          return [type, await buffer(file)] as const;
        }),
      );
      return Object.fromEntries(entries) as Input;
    })();
    made.set(name, files);
  }
  return files;
}
