import type { KvSessionRef } from './kv-command.js';
import type { KvResult } from './kv-result.js';

/** One client session (Raft thesis §6.3): the results of its writes that the client may still ask for. */
export interface Session {
  readonly id: number;
  /** The state machine clock at the session's last use. */
  lastActiveMs: number;
  /** Sequences below this were forgotten (the client said it had their answers). */
  lowestRetained: number;
  /** Result of each remembered write, by sequence. */
  readonly results: Map<number, KvResult>;
}

/** What to do with a write that carries a session: apply it under `session`, or answer `result` as is. */
export type SessionCheck =
  | { readonly kind: 'apply'; readonly session: Session }
  | { readonly kind: 'answer'; readonly result: KvResult };

/**
 * The live sessions, in order of last use (least recent first): touching one moves it to the back, so both
 * expiry and eviction pop from the front.
 */
export class SessionTable {
  constructor(
    private readonly ttlMs: number,
    private readonly maxSessions: number,
    /** Sessions by id, in order of last use; restore hands in the snapshot's. */
    readonly sessions: Map<number, Session> = new Map(),
  ) {}

  /** Number of live sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /** Opens session `id` at `nowMs`, evicting the least recently used ones beyond the limit. */
  open(id: number, nowMs: number): void {
    this.sessions.delete(id);
    this.sessions.set(id, { id, lastActiveMs: nowMs, lowestRetained: 0, results: new Map() });
    while (this.sessions.size > this.maxSessions) this.dropOldest();
  }

  /** Expires the sessions idle for more than the TTL at `nowMs`. */
  expire(nowMs: number): void {
    for (const session of this.sessions.values()) {
      if (nowMs - session.lastActiveMs <= this.ttlMs) break;
      this.sessions.delete(session.id);
    }
  }

  /**
   * Looks up the session of a write at `nowMs` and refreshes it. Answers a rejection for an unknown session or
   * a forgotten sequence, the cached result for a retry, and otherwise says to apply.
   */
  check(ref: KvSessionRef, nowMs: number): SessionCheck {
    const session = this.sessions.get(ref.sessionId);
    if (session === undefined) {
      return reject('SESSION_EXPIRED', `session ${ref.sessionId} is unknown or expired`);
    }
    session.lastActiveMs = nowMs;
    this.sessions.delete(session.id);
    this.sessions.set(session.id, session);
    if (ref.sequence < session.lowestRetained) {
      return reject(
        'STALE_REQUEST',
        `sequence ${ref.sequence} of session ${ref.sessionId} is below ${session.lowestRetained}; its result is forgotten`,
      );
    }
    const cached = session.results.get(ref.sequence);
    if (cached !== undefined) {
      this.forgetBelow(session, ref.firstIncomplete);
      return { kind: 'answer', result: cached };
    }
    return { kind: 'apply', session };
  }

  /** Remembers the result of a write applied under `session`, and forgets what the client has acknowledged. */
  record(session: Session, ref: KvSessionRef, result: KvResult): void {
    session.results.set(ref.sequence, result);
    this.forgetBelow(session, ref.firstIncomplete);
  }

  private forgetBelow(session: Session, firstIncomplete: number): void {
    if (firstIncomplete <= session.lowestRetained) return;
    session.lowestRetained = firstIncomplete;
    for (const sequence of session.results.keys()) {
      if (sequence < firstIncomplete) session.results.delete(sequence);
    }
  }

  private dropOldest(): void {
    const oldest = this.sessions.keys().next();
    if (!oldest.done) this.sessions.delete(oldest.value);
  }
}

function reject(code: 'SESSION_EXPIRED' | 'STALE_REQUEST', message: string): SessionCheck {
  return { kind: 'answer', result: { type: 'rejected', code, message } };
}
