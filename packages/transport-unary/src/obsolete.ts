import type { Message } from '@tsraft/core';

/**
 * The term by which `message` supersedes older messages to the same peer, or `null` when it takes no part
 * in the obsolete-message rule.
 *
 * The rule: once a message carrying the sender's current term T is queued for a peer, every message to that
 * peer whose term is below T and that was not delivered yet is obsolete (the receiver ignores a lower term,
 * and any answer is of no use to a sender that moved on to T), so it is dropped, or its call cancelled.
 *
 * Core sends every message with its current term (term 0 included: it is simply the first term), except
 * pre-vote messages (raft.ts `requestVotes`, `handleVoteRequest`): a pre-vote request carries term + 1, a term
 * the sender has not reached, and a granted pre-vote response echoes the requester's term. Neither is the
 * sender's current term, so pre-vote messages neither supersede nor are ever dropped by this rule.
 */
export function supersedingTerm(message: Message): number | null {
  if ((message.type === 'vote' || message.type === 'voteResponse') && message.preVote) return null;
  return message.term;
}
