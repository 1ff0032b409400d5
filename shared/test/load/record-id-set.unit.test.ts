import { MAX_RUNS, RecordIdSet } from '@dataharvest/shared/load/record-id-set';

const setOf = (ids: number[]) => {
  const set = new RecordIdSet();
  const added = ids.map((id) => set.add(id));
  return { set, added };
};

describe('record ids as runs', () => {
  it('keeps consecutive ids as one run each, in file order, and no repeated id', () => {
    const { set, added } = setOf([1, 2, 3, 7, 8, 3, 5, 2 ** 27, 2 ** 27 + 1]);
    expect(added).toEqual([true, true, true, true, true, false, true, true, true]);
    expect(set.runs()).toEqual({
      runs: [
        [1, 3],
        [7, 8],
        [5, 5],
        [2 ** 27, 2 ** 27 + 1],
      ],
      exact: true,
    });
  });

  it('keeps only the span of ids too scattered to keep as runs', () => {
    const ids = Array.from({ length: MAX_RUNS + 1 }, (_, i) => 10 + 2 * (MAX_RUNS - i));
    expect(setOf(ids.slice(0, MAX_RUNS)).set.runs()).toMatchObject({ exact: true });
    expect(setOf(ids).set.runs()).toEqual({ runs: [[10, 10 + 2 * MAX_RUNS]], exact: false });
  });
});
