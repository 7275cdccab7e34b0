import * as path from 'node:path';
import { createMemoryNetwork, createNode, type NodeId, type RaftNode, type StateMachine } from '@tsraft/core';
import { openLogStorage } from '@tsraft/log-storage';

/** How the nodes of a {@link DriverCluster} drive their core. */
export interface DriverSettings {
  /** Take the next Ready while a write is in flight (`asyncWrites`). */
  readonly asyncWrites: boolean;
  /** Proposals made during a Ready join the next one (`proposalBatching`). */
  readonly batching: boolean;
}

/** A state machine that does nothing: the suite measures the log, not the application. */
const NOTHING: StateMachine<void> = {
  apply: () => undefined,
  snapshot: () => new Uint8Array(0),
  restore: () => undefined,
};

/**
 * Three `createNode` nodes in this process on durable disk storage (`@tsraft/log-storage`, fdatasync on) and
 * the in-memory network: the whole driver and core, every fsync real, no gRPC and no client RPCs.
 */
export class DriverCluster {
  private nodes: RaftNode<void>[] = [];
  private leader: RaftNode<void> | null = null;

  private constructor(private readonly ids: readonly NodeId[]) {}

  /** Opens storages under `dir`, starts the nodes and waits until one leads and committed its first entry. */
  static async start(dir: string, settings: DriverSettings): Promise<DriverCluster> {
    const ids = ['d1', 'd2', 'd3'];
    const cluster = new DriverCluster(ids);
    const network = createMemoryNetwork();
    for (const [i, id] of ids.entries()) {
      const storage = await openLogStorage({
        dir: path.join(dir, id),
        nodeId: id,
        clusterId: 'bench-driver',
        conf: { voters: ids, learners: [] },
      });
      const node = createNode<void>({
        id,
        storage,
        transport: network.transport(id),
        stateMachine: NOTHING,
        tickIntervalMs: 10,
        electionTicks: 20,
        randomSeed: 7 + i,
        asyncWrites: settings.asyncWrites,
        proposalBatching: settings.batching,
        snapshotIntervalEntries: 50_000,
      });
      cluster.nodes.push(node);
    }
    await Promise.all(cluster.nodes.map((n) => n.start()));
    cluster.nodes[0]!.campaign();
    await cluster.settle();
    return cluster;
  }

  /** Proposes `total` commands of `data`, keeping `inFlight` outstanding at the leader, and waits for all. */
  async proposeClosedLoop(total: number, inFlight: number, data: Uint8Array): Promise<void> {
    const leader = this.leader ?? (await this.settle());
    let issued = 0;
    const worker = async (): Promise<void> => {
      while (issued < total) {
        issued++;
        await leader.propose(data, { timeoutMs: 10_000 });
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, total) }, worker));
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.close()));
  }

  /** Waits for a leader that accepts proposals. */
  private async settle(): Promise<RaftNode<void>> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const leader = this.nodes.find((n) => n.status().role === 'leader');
      if (leader !== undefined) {
        try {
          await leader.propose(new Uint8Array(0), { timeoutMs: 2_000 });
          this.leader = leader;
          return leader;
        } catch {
          // not settled yet
        }
      }
      if (Date.now() > deadline) throw new Error(`no leader among ${this.ids.join(', ')} within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
