import { create } from '@bufbuild/protobuf';
import { type SessionRef, SessionRefSchema } from '@tsraft/proto';

/** The numbering of writes within one client session. */
export interface KvSession {
  /** The id OpenSession returned. */
  readonly id: bigint;
  /** Takes the next sequence number (from 1) and marks it awaiting an answer. */
  begin(): bigint;
  /**
   * The reference a request for `sequence` carries, with `firstIncomplete` the lowest sequence still awaiting
   * an answer, so the server may forget the results below it.
   */
  ref(sequence: bigint): SessionRef;
  /** Marks `sequence` answered or given up; idempotent. */
  end(sequence: bigint): void;
}

/** Creates the {@link KvSession} for the session `id`. */
export function createKvSession(id: bigint): KvSession {
  let next = 1n;
  // Few writes are in flight at once, so a linear scan for the lowest is cheap.
  const pending = new Set<bigint>();
  return {
    id,
    begin: () => {
      const sequence = next++;
      pending.add(sequence);
      return sequence;
    },
    ref: (sequence) => {
      let firstIncomplete = next;
      for (const s of pending) if (s < firstIncomplete) firstIncomplete = s;
      return create(SessionRefSchema, { sessionId: id, sequence, firstIncomplete });
    },
    end: (sequence) => {
      pending.delete(sequence);
    },
  };
}
