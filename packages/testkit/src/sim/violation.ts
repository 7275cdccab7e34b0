/**
 * The closed set of properties the simulator checks. Each violation names one.
 *
 * | code | property |
 * |---|---|
 * | `election-safety` | at most one leader per term (Raft §5.2) |
 * | `leader-append-only` | a leader never overwrites or deletes entries in its log (§5.3) |
 * | `log-matching` | two logs with an entry of the same index and term agree on it and on everything before it (§5.3) |
 * | `leader-completeness` | a new leader's log holds every entry committed before it was elected (§5.4) |
 * | `state-machine-safety` | no two nodes commit or apply different entries at one index (§5.4.3) |
 * | `durable-state-monotonic` | the durable term never decreases and the durable vote never changes within a term, across restarts |
 * | `term-monotonic` | a running node's term never decreases |
 * | `ack-before-durable` | a granted vote or a successful append acknowledgement is backed by the sender's stable storage when sent |
 * | `apply-order` | each node applies committed entries once, in index order, without gaps |
 * | `config-safety` | every committed configuration follows from the one before it by one change (or leaves a joint one); each node's core has in force the configuration of the last config entry or snapshot it handed out; snapshots carry the configuration committed as of their index |
 * | `state-machine-determinism` | every node's state machine returns the same result for the entry at an index |
 * | `liveness` | after faults stop and the network heals, a leader is elected and a fresh write commits everywhere in bounded time |
 * | `linearizability` | the client history is linearizable (checked per key by the WGL checker) |
 * | `workload` | the workload's own check of the history failed |
 * | `core-error` | the core threw, or broke the `Ready` contract |
 */
export type InvariantCode =
  | 'election-safety'
  | 'leader-append-only'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'durable-state-monotonic'
  | 'term-monotonic'
  | 'ack-before-durable'
  | 'apply-order'
  | 'config-safety'
  | 'state-machine-determinism'
  | 'liveness'
  | 'linearizability'
  | 'workload'
  | 'core-error';

/** Thrown (out of `Simulation.step` and the methods that run it) when a checked property fails. */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
  /** Which property failed. */
  readonly invariant: InvariantCode;
  /** Virtual time (ms) at which it was detected. */
  readonly time: number;
  /** Steps (processed events) before detection. */
  readonly step: number;

  constructor(
    invariant: InvariantCode,
    message: string,
    time: number,
    step: number,
    options?: { cause?: unknown },
  ) {
    super(`${invariant}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.invariant = invariant;
    this.time = time;
    this.step = step;
  }
}
