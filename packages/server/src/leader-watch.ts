import type { NodeId, RaftNode } from '@tsraft/core';

/**
 * Resolves when `node` learns of a leader other than `previous`, or after `maxWaitMs`, whichever comes
 * first: requests that found no usable leader wait here instead of spinning.
 */
export function waitForLeaderChange(
  node: Pick<RaftNode, 'onLeaderChange'>,
  previous: NodeId | null,
  maxWaitMs: number,
): Promise<void> {
  return new Promise((resolve) => {
    let unsubscribe: (() => void) | undefined;
    const timer = setTimeout(finish, Math.max(0, maxWaitMs));
    function finish(): void {
      clearTimeout(timer);
      unsubscribe?.();
      resolve();
    }
    unsubscribe = node.onLeaderChange((leader) => {
      if (leader !== null && leader !== previous) finish();
    });
  });
}
