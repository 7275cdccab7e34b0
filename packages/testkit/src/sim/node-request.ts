import type { NodeId, RaftErrorCode } from '@tsraft/core';

/** How a request made at one node ended, as that node sees it. */
export type RequestOutcome =
  /** Applied (a proposal) or read at a confirmed read index; `result` is the state machine's answer. */
  | { readonly status: 'ok'; readonly result: unknown; readonly index: number }
  /** Definitely had no effect: refused (`NOT_LEADER`, ...) or replaced by another leader's entry (`PROPOSAL_DROPPED`). */
  | { readonly status: 'failed'; readonly code: RaftErrorCode; readonly leader: NodeId | null }
  /** The node can no longer tell (it crashed, or a snapshot covered the entry before it was applied here). */
  | { readonly status: 'unknown'; readonly reason: string };

/** A request made at one node: a proposal of `command`, or a linearizable read answered by `query`. */
export type NodeRequest =
  | {
      readonly kind: 'propose';
      readonly command: Uint8Array;
      readonly onOutcome: (outcome: RequestOutcome) => void;
    }
  | { readonly kind: 'read'; readonly query: unknown; readonly onOutcome: (outcome: RequestOutcome) => void };
