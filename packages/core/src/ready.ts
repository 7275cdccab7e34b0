import type { ConfState } from './conf-state.js';
import type { Entry, NodeId } from './entry.js';
import type { RaftErrorCode } from './errors.js';
import type { HardState } from './hard-state.js';
import type { Message } from './message.js';
import type { Snapshot } from './snapshot.js';

/** The role a node plays in its current term (Raft §5.1; pre-candidate from thesis §9.6). */
export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state worth reporting when it changes: who leads and what this node is. */
export interface SoftState {
  readonly leader: NodeId | null;
  readonly role: Role;
}

/** The outcome of a `readIndex` request: a read index to wait for, or why there is none. */
export type ReadState =
  | { readonly requestId: number; readonly ok: true; readonly index: number }
  | {
      readonly requestId: number;
      readonly ok: false;
      readonly code: RaftErrorCode;
      readonly leader: NodeId | null;
    };

/**
 * Everything the core asks its driver to do, handed out by `RawNode.ready()` and acknowledged by
 * `RawNode.advance(ready)`. The driver handles the fields in this order:
 *
 * 1. `messages` may be sent at once, even before anything below is durable. They are the leader's
 *    appends and heartbeats (thesis §10.2.1: the leader writes its log in parallel with replication)
 *    and messages that promise nothing about this node's disk.
 * 2. `snapshot`, `entries` (which replace any stored entries at or after `entries[0].index`) and
 *    `hardState` are written to stable storage, and synced when `mustSync` is set.
 * 3. Only after that write is durable are `persistedMessages` sent: votes and append acknowledgements,
 *    which promise that the hard state and entries they depend on survive a crash.
 * 4. `committedEntries` are applied to the state machine in order (they are always already durable here).
 * 5. `readStates` are answered once the applied index reaches each read's index.
 * 6. `advance(ready)` is called; until then `ready()` must not be called again.
 *
 * Asynchronous writes (`createNode` with `asyncWrites: true`): instead of `advance`, call `acceptReady(ready)` once the
 * messages are sent, the write is started and the committed entries applied; the next Ready may then be
 * taken while the write is in flight. When the write is durable, send `persistedMessages` and call
 * `persisted(ready)`. Writes must take effect, and be reported, in the order their Readies were taken. A
 * Ready with a `snapshot` is best handled whole (after every earlier write) with `advance`.
 */
export interface Ready {
  /** Leader and role, when they changed since the previous Ready; otherwise `null`. */
  readonly softState: SoftState | null;
  /** Hard state to persist, when it changed; otherwise `null`. */
  readonly hardState: HardState | null;
  /** Entries to append to stable storage. */
  readonly entries: readonly Entry[];
  /** A snapshot to install in stable storage (and into the state machine) before anything else. */
  readonly snapshot: Snapshot | null;
  /**
   * Entries committed and durable, to apply in order. `config` entries are already in force in the core
   * (they never go to the state machine); `noop` entries carry nothing.
   */
  readonly committedEntries: readonly Entry[];
  /**
   * The membership after this Ready's `snapshot` and `committedEntries`, when they changed it; otherwise
   * `null`. Store it with any snapshot taken at or after their last index.
   */
  readonly confState: ConfState | null;
  /** Messages that may be sent now. */
  readonly messages: readonly Message[];
  /** Messages to send only after `snapshot`, `entries` and `hardState` are durable. */
  readonly persistedMessages: readonly Message[];
  /** ReadIndex outcomes for requests made with `RawNode.readIndex`. */
  readonly readStates: readonly ReadState[];
  /** Whether the write must be synced: false when only the commit index changed. */
  readonly mustSync: boolean;
}
