import type { Session } from './session-table.js';

/** Everything a KV state machine holds, and everything its snapshot records. */
export interface KvState {
  /** Values by key (see `keyOf`). */
  readonly data: Map<string, Uint8Array>;
  /** Sessions by id, in order of last use. */
  readonly sessions: Map<number, Session>;
  /** The logical clock: the largest `proposedAtMs` applied. */
  readonly clockMs: number;
  /** Index of the last applied entry. */
  readonly appliedIndex: number;
}
