/** A running 3-member cluster on loopback that a load suite measures, whatever the system. */
export interface BenchCluster {
  /** What it is, e.g. `tsraft streaming, batching on` or `etcd 3.4.23`. */
  readonly label: string;
  /** `host:port` of each member's client endpoint. */
  readonly endpoints: readonly string[];
  /** The server processes, whose CPU time is charged to the operations. */
  readonly pids: readonly number[];
  /** The tail of every member's log, for failure messages. */
  logs(): string;
  /** Kills every member and removes the data. Idempotent. */
  close(): Promise<void>;
}
