/**
 * A model of the per-entry bookkeeping Raft's core does, written twice: once with `number` terms and
 * indexes (what core uses) and once with `bigint` (what it would use if it worked on protobuf-es types).
 * Both versions do the same steps in the same order:
 *
 * 1. Follower: the AppendEntries consistency check (term at `prevLogIndex`), then for each of the batch's
 *    entries a contiguity check, a term lookup in the log (array indexed by `index - offset`) and an append.
 * 2. Leader: for each acknowledged entry, raise one follower's match index, recompute the commit index as
 *    the majority of 5 match indexes (copy and sort, see {@link QuorumMethod}), check the term of the
 *    candidate commit index, and look up the proposal waiting on that index (a Map keyed by index).
 */

/** One entry as the model sees it. */
export interface ModelEntry<T> {
  readonly index: T;
  readonly term: T;
}

/** The inputs of one model run; the run leaves them unchanged. */
export interface HotPathFixture<T> {
  /** Index of `logTerms[0]`. */
  readonly logOffset: T;
  /** The leader's log: the follower holds the prefix up to `prevLogIndex`, the batch follows. */
  readonly logTerms: readonly T[];
  readonly prevLogIndex: T;
  readonly prevLogTerm: T;
  readonly leaderCommit: T;
  readonly currentTerm: T;
  readonly batch: readonly ModelEntry<T>[];
  /** Match indexes of the 5 voters (the leader first) when the batch is sent. */
  readonly matchAtStart: readonly T[];
  /** Proposals waiting for their entry to commit, keyed by index. */
  readonly pending: ReadonlyMap<T, T>;
}

/** Builds the same fixture in both representations. */
export function createHotPathFixtures(batchSize: number): {
  number: HotPathFixture<number>;
  bigint: HotPathFixture<bigint>;
} {
  const logOffset = 1_000_000;
  const followerLength = 256;
  const currentTerm = 7;
  const logTerms: number[] = [];
  for (let i = 0; i < followerLength + batchSize; i++) logTerms.push(i < 100 ? 6 : currentTerm);
  const prevLogIndex = logOffset + followerLength - 1;
  const batch: ModelEntry<number>[] = [];
  for (let i = 1; i <= batchSize; i++) batch.push({ index: prevLogIndex + i, term: currentTerm });
  const last = prevLogIndex + batchSize;
  const matchAtStart = [last, prevLogIndex, prevLogIndex, prevLogIndex - 10, prevLogIndex - 20];
  const pending = new Map<number, number>();
  for (let i = prevLogIndex - 64; i <= last; i += 2) pending.set(i, i * 3);
  const n: HotPathFixture<number> = {
    logOffset,
    logTerms,
    prevLogIndex,
    prevLogTerm: currentTerm,
    leaderCommit: prevLogIndex,
    currentTerm,
    batch,
    matchAtStart,
    pending,
  };
  const b: HotPathFixture<bigint> = {
    logOffset: BigInt(logOffset),
    logTerms: logTerms.map(BigInt),
    prevLogIndex: BigInt(prevLogIndex),
    prevLogTerm: BigInt(currentTerm),
    leaderCommit: BigInt(prevLogIndex),
    currentTerm: BigInt(currentTerm),
    batch: batch.map((e) => ({ index: BigInt(e.index), term: BigInt(e.term) })),
    matchAtStart: matchAtStart.map(BigInt),
    pending: new Map([...pending].map(([k, v]) => [BigInt(k), BigInt(v)])),
  };
  return { number: n, bigint: b };
}

/** What one model run computes; equal for both representations of the same fixture. */
export interface HotPathResult<T> {
  readonly appended: number;
  readonly followerCommit: T;
  readonly leaderCommit: T;
  readonly pendingSum: T;
}

/** Makes `followerLog` the follower's log before the batch: a prefix of `logTerms`, filled only once. */
function resetFollowerLog<T>(followerLog: T[], logTerms: readonly T[], followerLength: number): void {
  if (followerLog.length >= followerLength) {
    followerLog.length = followerLength;
    return;
  }
  followerLog.length = 0;
  for (let i = 0; i < followerLength; i++) followerLog.push(logTerms[i]!);
}

const QUORUM_POSITION = 2; // majority of 5 voters, sorted descending: the 3rd highest match index

/**
 * How the leader finds the majority match index: `sort` copies the match indexes and calls
 * `Array.prototype.sort` with a comparator (what core's quorum code does today); `insertion` sorts the
 * copy by hand, which removes the call overhead that otherwise dominates the model.
 */
export type QuorumMethod = 'sort' | 'insertion';

function quorumNumber(match: readonly number[], sorted: number[], method: QuorumMethod): number {
  const n = match.length;
  if (method === 'sort') {
    for (let v = 0; v < n; v++) sorted[v] = match[v]!;
    sorted.sort((a, b) => b - a);
  } else {
    for (let v = 0; v < n; v++) {
      const x = match[v]!;
      let j = v;
      for (; j > 0 && sorted[j - 1]! < x; j--) sorted[j] = sorted[j - 1]!;
      sorted[j] = x;
    }
  }
  return sorted[QUORUM_POSITION]!;
}

function quorumBigint(match: readonly bigint[], sorted: bigint[], method: QuorumMethod): bigint {
  const n = match.length;
  if (method === 'sort') {
    for (let v = 0; v < n; v++) sorted[v] = match[v]!;
    sorted.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  } else {
    for (let v = 0; v < n; v++) {
      const x = match[v]!;
      let j = v;
      for (; j > 0 && sorted[j - 1]! < x; j--) sorted[j] = sorted[j - 1]!;
      sorted[j] = x;
    }
  }
  return sorted[QUORUM_POSITION]!;
}

/**
 * The model with `number` terms and indexes.
 *
 * @param followerLog - scratch space for the follower's log terms, reused across runs (the run truncates it).
 */
export function hotPathNumber(
  f: HotPathFixture<number>,
  followerLog: number[],
  method: QuorumMethod,
): HotPathResult<number> {
  const { logOffset, logTerms } = f;
  const followerLength = f.prevLogIndex - logOffset + 1;
  resetFollowerLog(followerLog, logTerms, followerLength);

  // Follower: consistency check, then append.
  if (followerLog[f.prevLogIndex - logOffset] !== f.prevLogTerm) throw new Error('consistency check failed');
  let last = f.prevLogIndex;
  let appended = 0;
  for (const entry of f.batch) {
    if (entry.index !== last + 1) throw new Error('entries are not contiguous');
    const existing = followerLog[entry.index - logOffset];
    if (existing !== entry.term) {
      followerLog.length = entry.index - logOffset;
      followerLog.push(entry.term);
      appended++;
    }
    last = entry.index;
  }
  const followerCommit = Math.min(f.leaderCommit, last);

  // Leader: acknowledgements raise match indexes; recompute the commit index after each.
  const match = f.matchAtStart.slice();
  let leaderCommit = f.leaderCommit;
  let pendingSum = 0;
  const sorted = new Array<number>(match.length);
  for (let k = 0; k < f.batch.length; k++) {
    const index = f.batch[k]!.index;
    const voter = 1 + (k % 2);
    if (index > match[voter]!) match[voter] = index;
    const candidate = quorumNumber(match, sorted, method);
    if (candidate > leaderCommit && logTerms[candidate - logOffset] === f.currentTerm) {
      leaderCommit = candidate;
      const waiting = f.pending.get(candidate);
      if (waiting !== undefined) pendingSum += waiting;
    }
  }
  return { appended, followerCommit, leaderCommit, pendingSum };
}

/**
 * The same model with `bigint` terms and indexes: array positions need `Number(index - offset)`, the
 * minimum is a comparison and the sort comparator cannot subtract.
 *
 * @param followerLog - scratch space for the follower's log terms, reused across runs (the run truncates it).
 */
export function hotPathBigint(
  f: HotPathFixture<bigint>,
  followerLog: bigint[],
  method: QuorumMethod,
): HotPathResult<bigint> {
  const { logOffset, logTerms } = f;
  const followerLength = Number(f.prevLogIndex - logOffset + 1n);
  resetFollowerLog(followerLog, logTerms, followerLength);

  if (followerLog[Number(f.prevLogIndex - logOffset)] !== f.prevLogTerm)
    throw new Error('consistency check failed');
  let last = f.prevLogIndex;
  let appended = 0;
  for (const entry of f.batch) {
    if (entry.index !== last + 1n) throw new Error('entries are not contiguous');
    const existing = followerLog[Number(entry.index - logOffset)];
    if (existing !== entry.term) {
      followerLog.length = Number(entry.index - logOffset);
      followerLog.push(entry.term);
      appended++;
    }
    last = entry.index;
  }
  // biome-ignore lint/complexity/useMathMinMax: Math.min does not accept bigint.
  const followerCommit = f.leaderCommit < last ? f.leaderCommit : last;

  const match = f.matchAtStart.slice();
  let leaderCommit = f.leaderCommit;
  let pendingSum = 0n;
  const sorted = new Array<bigint>(match.length);
  for (let k = 0; k < f.batch.length; k++) {
    const index = f.batch[k]!.index;
    const voter = 1 + (k % 2);
    if (index > match[voter]!) match[voter] = index;
    const candidate = quorumBigint(match, sorted, method);
    if (candidate > leaderCommit && logTerms[Number(candidate - logOffset)] === f.currentTerm) {
      leaderCommit = candidate;
      const waiting = f.pending.get(candidate);
      if (waiting !== undefined) pendingSum += waiting;
    }
  }
  return { appended, followerCommit, leaderCommit, pendingSum };
}
