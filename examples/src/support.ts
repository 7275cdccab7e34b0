import { type NodeId, RaftError, type RaftNode } from '@tsraft/core';

/** Bound on every wait in the examples, so a broken build fails instead of hanging. */
export const STEP_TIMEOUT_MS = 10_000;

/** Rejects with `what` in the message if `promise` takes longer than `ms`. */
export function within<T>(promise: Promise<T>, what: string, ms = STEP_TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Waits until every node in `nodes` knows the same leader, that leader is one of them, and it has taken
 * office. Listens to leader-change events rather than polling.
 */
export function waitForLeader<R>(
  nodes: readonly RaftNode<R>[],
  what = 'a leader to be elected',
): Promise<RaftNode<R>> {
  const offs: (() => void)[] = [];
  const agreed = new Promise<RaftNode<R>>((resolve) => {
    const check = (): void => {
      const known = new Set(nodes.map((n) => n.status().leader));
      const [leaderId] = known;
      const leader = nodes.find((n) => n.id === leaderId);
      if (known.size === 1 && leader !== undefined && leader.status().role === 'leader') resolve(leader);
    };
    for (const node of nodes) offs.push(node.onLeaderChange(check));
    check();
  });
  return within(agreed, what).finally(() => {
    for (const off of offs) off();
  });
}

/**
 * Proposes `data` at the leader among `nodes`, following `NOT_LEADER` hints and retrying proposals a
 * leader change dropped (safe: a dropped proposal was not applied).
 */
export async function proposeToLeader<R>(
  nodes: readonly RaftNode<R>[],
  data: Uint8Array,
): Promise<{ result: R; leader: NodeId }> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const leader = await waitForLeader(nodes);
    try {
      const result = await leader.propose(data, { timeoutMs: Math.max(1, deadline - Date.now()) });
      return { result, leader: leader.id };
    } catch (error) {
      const retry = error instanceof RaftError && error.retryable && error.code !== 'TOO_MANY_UNCOMMITTED';
      if (!retry || Date.now() >= deadline) throw error;
    }
  }
}
