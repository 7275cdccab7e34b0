import { isDeepStrictEqual } from 'node:util';
import {
  applyMemberChanges,
  type ConfChange,
  type ConfState,
  configId,
  decodeConfChange,
  type Entry,
  type EntryType,
  type HardState,
  isJoint,
  leaveJoint,
  type Message,
  type NodeId,
  RaftError,
  type Role,
  type SnapshotMeta,
} from '@tsraft/core';
import type { ShadowLog } from './shadow-log.js';
import { type InvariantCode, InvariantViolation } from './violation.js';

/** Where the checker reads the current virtual time and step count from, for its reports. */
export interface CheckerClock {
  readonly now: number;
  readonly steps: number;
}

/** What the simulator knows of a node's durable state when it sends a message. */
export interface DurableView {
  /** The hard state in stable storage. */
  readonly hardState: HardState;
  /** Index of the stored snapshot. */
  readonly snapshotIndex: number;
  /** Index of the last stored entry. */
  readonly lastIndex: number;
  /** Term of the stored entry at `index` (`snapshotIndex <= index <= lastIndex`). */
  term(index: number): number;
}

interface LoggedEntry {
  readonly type: EntryType;
  readonly data: Uint8Array;
  /** Term of the entry before it in the log that first held it (0 when unknown). */
  readonly prevTerm: number;
  readonly node: NodeId;
}

interface CommittedEntry {
  readonly term: number;
  readonly type: EntryType | 'snapshot';
  readonly data: Uint8Array | null;
  /** The first node seen to hold it as committed. */
  readonly node: NodeId;
  /** The lowest current term of a node seen to hold it as committed: it was committed in this term or earlier. */
  knownTerm: number;
}

const TERM_BITS = 2 ** 21;

/**
 * The safety properties of Raft, checked incrementally as the simulator observes each node
 * (every hook is O(1) or O(entries observed), except leader completeness: O(entries since the new leader's snapshot),
 * once per elected leader). Each hook throws {@link InvariantViolation} on the first breach.
 *
 * It keeps global knowledge across the run: the leader of each term, every (index, term) ever written to a
 * log with its payload and predecessor's term, and every committed entry.
 */
export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>();
  private readonly logged = new Map<number, LoggedEntry>();
  /** Indexed by log index. */
  private readonly committedEntries: (CommittedEntry | undefined)[] = [];
  private readonly results = new Map<number, { readonly result: unknown; readonly node: NodeId }>();
  private maxCommitted = 0;
  /** Every committed config entry seen so far, in index order (they are first seen in that order). */
  private readonly configs: { readonly index: number; readonly conf: ConfState }[] = [];

  /**
   * @param initialConf The configuration the cluster started with (before any config entry). When given, the
   * first config entry must derive from it and snapshots before any config entry must carry it.
   */
  constructor(
    private readonly clock: CheckerClock,
    private readonly initialConf: ConfState | null = null,
  ) {}

  /** Highest index known committed anywhere so far. */
  get committedIndex(): number {
    return this.maxCommitted;
  }

  /** The leader of `term`, if one was observed. */
  leaderOf(term: number): NodeId | undefined {
    return this.leaders.get(term);
  }

  /** The entry committed at `index` (term and payload), if known. */
  committedAt(index: number): { readonly term: number; readonly data: Uint8Array | null } | undefined {
    return this.committedEntries[index];
  }

  /** Committed config entries seen so far (index and the configuration after it), in index order. */
  get committedConfigs(): readonly { readonly index: number; readonly conf: ConfState }[] {
    return this.configs;
  }

  /**
   * The committed configuration in force after index `index`: that of the last committed config entry at
   * or before it, else the initial one (`null` when the checker was not told it).
   */
  confAt(index: number): ConfState | null {
    const configs = this.configs;
    let lo = 0;
    let hi = configs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (configs[mid]!.index <= index) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? this.initialConf : configs[lo - 1]!.conf;
  }

  /** Number of terms in which a leader was observed. */
  get leaderCount(): number {
    return this.leaders.size;
  }

  /**
   * Election safety (Raft §5.2): records that `node` is leader in `term`.
   * Returns `true` the first time this leadership is seen (the caller then schedules the completeness check).
   */
  observeRole(node: NodeId, role: Role, term: number): boolean {
    if (role !== 'leader') return false;
    const known = this.leaders.get(term);
    if (known === undefined) {
      this.leaders.set(term, node);
      return true;
    }
    if (known !== node) this.fail('election-safety', `two leaders in term ${term}: ${known} and ${node}`);
    return false;
  }

  /**
   * Leader completeness (Raft §5.4): the log of `node`, leader of `term`, must hold every entry committed in
   * an earlier term. An entry counts as committed in an earlier term when some node already knew it committed
   * while its own term was below `term` (the term an entry is committed in is at most the term of any node that
   * knows it committed), so the check never reports an entry that a later leader committed.
   */
  checkLeaderCompleteness(node: NodeId, term: number, log: ShadowLog): void {
    const base = log.snapshotIndex;
    const last = log.lastIndex();
    const entries = this.committedEntries;
    for (let i = Math.max(base, 1); i < entries.length; i++) {
      const c = entries[i];
      if (c === undefined || c.knownTerm >= term) continue;
      const t = log.term(i);
      if (t === c.term) continue;
      this.fail(
        'leader-completeness',
        i > last
          ? `${node} became leader of term ${term} with last index ${last}, but index ${i} (term ${c.term}) was committed in term ${c.knownTerm} or earlier (seen on ${c.node})`
          : `${node} became leader of term ${term} holding term ${t} at index ${i}, but an entry of term ${c.term} was committed there in term ${c.knownTerm} or earlier (seen on ${c.node})`,
      );
    }
  }

  /**
   * Log matching (Raft §5.3): `entry` enters the log of `node` after an entry of term `prevTerm`
   * (`undefined` when the predecessor is unknown, e.g. compacted). The same (index, term) must always carry the
   * same payload and follow the same term; by induction, logs then agree on every earlier entry too.
   */
  observeLogEntry(node: NodeId, entry: Entry, prevTerm: number | undefined): void {
    if (entry.term >= TERM_BITS) throw new RangeError(`term ${entry.term} is too large for the checker`);
    if (prevTerm !== undefined && prevTerm > entry.term) {
      this.fail(
        'log-matching',
        `${node} appended entry ${entry.index} of term ${entry.term} after an entry of term ${prevTerm}`,
      );
    }
    const key = entry.index * TERM_BITS + entry.term;
    const known = this.logged.get(key);
    if (known === undefined) {
      this.logged.set(key, { type: entry.type, data: entry.data, prevTerm: prevTerm ?? 0, node });
      return;
    }
    if (known.type !== entry.type || !sameBytes(known.data, entry.data)) {
      this.fail(
        'log-matching',
        `entry (${entry.index}, term ${entry.term}) differs between ${known.node} (${known.type}, ${known.data.byteLength} bytes) and ${node} (${entry.type}, ${entry.data.byteLength} bytes)`,
      );
    }
    if (prevTerm !== undefined && known.prevTerm !== 0 && prevTerm !== known.prevTerm) {
      this.fail(
        'log-matching',
        `entry (${entry.index}, term ${entry.term}) follows term ${known.prevTerm} on ${known.node} but term ${prevTerm} on ${node}`,
      );
    }
  }

  /**
   * State machine safety (Raft §5.4.3): `node`, at term `nodeTerm`, was handed `entry` as committed. No other
   * node may ever be handed a different entry at that index.
   */
  observeCommitted(node: NodeId, nodeTerm: number, entry: Entry): void {
    const known = this.committedEntries[entry.index];
    if (known === undefined) {
      if (entry.type === 'config') this.observeNewConfig(node, entry);
      this.setCommitted(entry.index, {
        term: entry.term,
        type: entry.type,
        data: entry.data,
        node,
        knownTerm: nodeTerm,
      });
      if (entry.index > this.maxCommitted) this.maxCommitted = entry.index;
      return;
    }
    const differs =
      known.term !== entry.term ||
      (known.type !== 'snapshot' && (known.type !== entry.type || !sameBytes(known.data!, entry.data)));
    if (differs) {
      this.fail(
        'state-machine-safety',
        `index ${entry.index} committed as term ${known.term} on ${known.node} but as term ${entry.term} on ${node}`,
      );
    }
    if (known.type === 'snapshot') {
      this.setCommitted(entry.index, {
        term: entry.term,
        type: entry.type,
        data: entry.data,
        node: known.node,
        knownTerm: Math.min(known.knownTerm, nodeTerm),
      });
    } else if (nodeTerm < known.knownTerm) {
      known.knownTerm = nodeTerm;
    }
  }

  /** State machine safety for snapshots: a snapshot installed on `node` (at term `nodeTerm`) must end at a committed entry. */
  observeSnapshot(node: NodeId, nodeTerm: number, meta: SnapshotMeta): void {
    const conf = this.confAt(meta.index);
    if (conf !== null && configId(conf) !== configId(meta.conf)) {
      this.fail(
        'config-safety',
        `${node} installed a snapshot at ${meta.index} carrying configuration ${describeConf(meta.conf)}, but ${describeConf(conf)} was committed as of that index`,
      );
    }
    const known = this.committedEntries[meta.index];
    if (known === undefined) {
      this.setCommitted(meta.index, {
        term: meta.term,
        type: 'snapshot',
        data: null,
        node,
        knownTerm: nodeTerm,
      });
      if (meta.index > this.maxCommitted) this.maxCommitted = meta.index;
      return;
    }
    if (known.term !== meta.term) {
      this.fail(
        'state-machine-safety',
        `${node} installed a snapshot ending at (${meta.index}, term ${meta.term}) but term ${known.term} was committed there (on ${known.node})`,
      );
    }
    if (nodeTerm < known.knownTerm) known.knownTerm = nodeTerm;
  }

  /** State machine determinism: every node's state machine must return the same result for index `index`. */
  observeApplyResult(node: NodeId, index: number, result: unknown): void {
    const known = this.results.get(index);
    if (known === undefined) {
      this.results.set(index, { result, node });
      return;
    }
    if (!isDeepStrictEqual(known.result, result)) {
      this.fail(
        'state-machine-determinism',
        `applying index ${index} returned ${describe(known.result)} on ${known.node} but ${describe(result)} on ${node}`,
      );
    }
  }

  /**
   * Durable state monotonicity: a write to `node`'s stable storage moves its hard state from `before` to
   * `after`. The term never decreases, a vote is never changed within a term, and the commit index never points
   * past the durable log (`lastIndex` after the write).
   */
  observeDurableSave(node: NodeId, before: HardState, after: HardState, lastIndex: number): void {
    if (after.term < before.term) {
      this.fail('durable-state-monotonic', `${node} wrote term ${after.term} over term ${before.term}`);
    }
    if (after.term === before.term && before.vote !== null && after.vote !== before.vote) {
      this.fail(
        'durable-state-monotonic',
        `${node} changed its durable vote in term ${after.term} from ${before.vote} to ${String(after.vote)}`,
      );
    }
    if (after.commit > lastIndex) {
      this.fail(
        'durable-state-monotonic',
        `${node} wrote commit ${after.commit} past its durable last index ${lastIndex}`,
      );
    }
  }

  /** A running node's term never decreases. */
  observeTerm(node: NodeId, before: number, after: number): void {
    if (after < before) this.fail('term-monotonic', `${node} went from term ${before} back to term ${after}`);
  }

  /**
   * Nothing acknowledged before it is durable: when `message` leaves its sender, a granted vote must be in
   * the sender's stable hard state (or superseded by a newer durable term), and a successful append
   * acknowledgement up to `index` must be backed by stored entries that agree with the leader's log
   * (`leaderTerm(i)` gives the leader's term at `i` when known).
   */
  observeSend(
    message: Message,
    durable: DurableView,
    leaderTerm: (index: number) => number | undefined,
  ): void {
    if (message.type === 'voteResponse') {
      if (!message.granted || message.preVote) return;
      const hs = durable.hardState;
      if (hs.term > message.term) return;
      if (hs.term !== message.term || hs.vote !== message.to) {
        this.fail(
          'ack-before-durable',
          `${message.from} granted its vote in term ${message.term} to ${message.to} while its stable hard state is term ${hs.term}, vote ${String(hs.vote)}`,
        );
      }
      return;
    }
    if (message.type !== 'appendResponse' || message.reject) return;
    const i = message.index;
    if (i <= durable.snapshotIndex) return;
    if (durable.hardState.term > message.term) return;
    if (durable.lastIndex < i) {
      this.fail(
        'ack-before-durable',
        `${message.from} acknowledged entries up to ${i} (term ${message.term}) to ${message.to} with only ${durable.lastIndex} stored`,
      );
    }
    const expected = leaderTerm(i);
    const stored = durable.term(i);
    if (expected !== undefined && stored !== expected) {
      this.fail(
        'ack-before-durable',
        `${message.from} acknowledged index ${i} to ${message.to} (leader of term ${message.term}, which holds term ${expected} there) but stores term ${stored}`,
      );
    }
  }

  /**
   * Configuration safety, per node: after `node` was handed committed entries (or a snapshot), the
   * configuration in force in its core (`inForce`, from `status().conf`) must be `expected`, that of the last
   * config entry (or snapshot) handed out, and the Ready must report it (`reported`, `Ready.confState`)
   * exactly when it handed out a config entry or a snapshot (`changed`).
   */
  checkNodeConf(
    node: NodeId,
    expected: ConfState,
    inForce: ConfState,
    reported: ConfState | null,
    changed: boolean,
  ): void {
    const id = configId(expected);
    if (configId(inForce) !== id) {
      this.fail(
        'config-safety',
        `${node} has configuration ${describeConf(inForce)} in force, but the config entries and snapshots it was handed say ${describeConf(expected)}`,
      );
    }
    if (changed && reported === null) {
      this.fail('config-safety', `${node} handed out a config entry or snapshot with Ready.confState null`);
    }
    if (!changed && reported !== null) {
      this.fail(
        'config-safety',
        `${node} reported Ready.confState ${describeConf(reported)} in a Ready with no config entry or snapshot`,
      );
    }
    if (reported !== null && configId(reported) !== id) {
      this.fail(
        'config-safety',
        `${node} reported Ready.confState ${describeConf(reported)}, but its committed entries say ${describeConf(expected)}`,
      );
    }
  }

  /**
   * Configuration safety, across the cluster (thesis §4.1, §4.3): the first time config entry `entry` is seen
   * committed, its configuration must follow from the committed configuration before it by its own changes
   * (one change at a time, each decided against the configuration it follows), and a joint configuration is
   * left only by an entry without changes that keeps the incoming voters. (Every node that applies the entry
   * then agrees on it: state machine safety makes its bytes equal everywhere.)
   */
  private observeNewConfig(node: NodeId, entry: Entry): void {
    let change: ConfChange;
    try {
      change = decodeConfChange(entry.data);
    } catch (error) {
      this.fail(
        'config-safety',
        `${node} committed config entry ${entry.index} that does not decode: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const last = this.configs[this.configs.length - 1];
    if (last !== undefined && last.index >= entry.index) {
      this.fail(
        'config-safety',
        `config entry ${entry.index} was first seen committed (on ${node}) after config entry ${last.index}`,
      );
    }
    const previous = last?.conf ?? this.initialConf;
    if (previous !== null) {
      let derived: ConfState;
      try {
        derived =
          change.changes.length === 0
            ? isJoint(previous)
              ? leaveJoint(previous)
              : previous
            : applyMemberChanges(previous, change.changes);
      } catch (error) {
        if (!(error instanceof RaftError)) throw error;
        this.fail(
          'config-safety',
          `committed config entry ${entry.index} (on ${node}) applies ${describeChanges(change)} to ${describeConf(previous)}, the committed configuration before it, which is not possible: ${error.message}`,
        );
      }
      if (change.changes.length === 0 && !isJoint(previous)) {
        this.fail(
          'config-safety',
          `committed config entry ${entry.index} (on ${node}) leaves a joint configuration, but ${describeConf(previous)} before it is not joint`,
        );
      }
      if (configId(derived) !== configId(change.conf)) {
        this.fail(
          'config-safety',
          `committed config entry ${entry.index} (on ${node}) carries ${describeConf(change.conf)}, but ${describeChanges(change)} applied to the committed configuration before it, ${describeConf(previous)}, gives ${describeConf(derived)}`,
        );
      }
    }
    this.configs.push({ index: entry.index, conf: change.conf });
  }

  /**
   * Leader append-only (Raft §5.3): a node that stayed leader of `term` since its previous Ready appends
   * `entries` right after `lastIndex`, never overwriting or deleting anything.
   */
  checkLeaderAppendOnly(node: NodeId, term: number, lastIndex: number, entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined || first.index === lastIndex + 1) return;
    this.fail(
      'leader-append-only',
      `${node}, leader of term ${term} with last index ${lastIndex}, wrote entries from index ${first.index}`,
    );
  }

  private setCommitted(index: number, entry: CommittedEntry): void {
    this.committedEntries[index] = entry;
  }

  private fail(code: InvariantCode, message: string): never {
    throw new InvariantViolation(code, message, this.clock.now, this.clock.steps);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A configuration on one line: `voters [a,b] outgoing [a,c] learners [d]`. */
export function describeConf(conf: ConfState): string {
  const parts = [`voters [${conf.voters.join(',')}]`];
  if (isJoint(conf)) parts.push(`outgoing [${(conf.votersOutgoing ?? []).join(',')}]`);
  if (conf.learners.length > 0) parts.push(`learners [${conf.learners.join(',')}]`);
  return `{${parts.join(' ')}}`;
}

function describeChanges(change: ConfChange): string {
  if (change.changes.length === 0) return 'leave-joint';
  return change.changes.map((c) => `${c.type} ${c.nodeId}`).join(' + ');
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
