import type { Message, MessageType, NodeId } from '@tsraft/core';
import type { SimNetwork } from './network.js';
import type { DeliverEvent, ReportEvent } from './sim-events.js';
import type { SimNode } from './sim-node.js';
import type { SimRandom } from './sim-random.js';
import type { SimScheduler } from './sim-scheduler.js';

/** Why a message never reached its destination. */
type DropReason = 'down' | 'partition' | 'loss';

/**
 * Carries the simulated nodes' messages over the {@link SimNetwork}: schedules each delivery (or drops it),
 * decides again when it comes due whether it gets through, and gives the sender the feedback a real
 * transport would: a dropped InstallSnapshot is reported failed and a delivered one succeeded; an append
 * dropped by a cut link or a down peer is sometimes reported unreachable.
 */
export class MessageDelivery {
  private readonly sentCounts: Record<MessageType, number> = {
    vote: 0,
    voteResponse: 0,
    append: 0,
    appendResponse: 0,
    heartbeat: 0,
    heartbeatResponse: 0,
    snapshot: 0,
    timeoutNow: 0,
    readIndex: 0,
    readIndexResponse: 0,
  };
  private deliveredCount = 0;
  private droppedCount = 0;
  private appendRejectionCount = 0;

  constructor(
    private readonly scheduler: SimScheduler,
    private readonly random: SimRandom,
    private readonly network: SimNetwork,
    /** Every node, by position (`DeliverEvent.to` and `.from` are positions). */
    private readonly nodes: readonly SimNode[],
    private readonly byId: ReadonlyMap<NodeId, SimNode>,
  ) {}

  /** Messages handed to the network so far, by type (a copy). */
  sentByType(): Record<MessageType, number> {
    return { ...this.sentCounts };
  }

  /** Messages that reached a running node. */
  get delivered(): number {
    return this.deliveredCount;
  }

  /** Messages lost, cut off by a partition, or addressed to a node that was down when they arrived. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Append requests the followers rejected (a measure of log back-off). */
  get appendRejections(): number {
    return this.appendRejectionCount;
  }

  /** Hands `m` from node `from` to the network: it is dropped now or scheduled for delivery (once or twice). */
  send(from: SimNode, m: Message): void {
    const to = this.byId.get(m.to);
    if (to === undefined) throw new Error(`${from.id} sent a message to unknown node ${m.to}`);
    this.sentCounts[m.type]++;
    if (m.type === 'appendResponse' && m.reject) this.appendRejectionCount++;
    const route = this.network.route(from.index, to.index);
    if (route.kind === 'dropped') {
      this.drop(from.index, from.generation, m, route.reason);
      return;
    }
    const delays = route.delays;
    for (let k = 0; k < delays.length; k++) {
      this.scheduler.push({
        kind: 'deliver',
        time: this.scheduler.now + delays[k]!,
        seq: 0,
        message: m,
        from: from.index,
        to: to.index,
        fromGen: from.generation,
        duplicate: k > 0,
      });
    }
  }

  /**
   * Decides what becomes of a message that came due: dropped when its destination is down or the link is cut
   * by now, held in the backlog of a paused destination, or delivered. Returns the destination when the
   * message is to be stepped now, otherwise `null`.
   */
  arrive(event: DeliverEvent): SimNode | null {
    const n = this.nodes[event.to]!;
    if (n.raw === null) {
      this.drop(event.from, event.fromGen, event.message, 'down');
      return null;
    }
    if (this.network.isCut(event.from, event.to)) {
      this.drop(event.from, event.fromGen, event.message, 'partition');
      return null;
    }
    if (n.paused) {
      n.backlog.push(event);
      return null;
    }
    this.deliveredCount++;
    const m = event.message;
    if (m.type === 'snapshot' && !event.duplicate)
      this.report(event.from, event.fromGen, m.to, 'snapshot-ok');
    return n;
  }

  /** Counts a dropped message and schedules the transport's report of it to the sender's incarnation `fromGen`. */
  private drop(from: number, fromGen: number, m: Message, reason: DropReason): void {
    this.droppedCount++;
    if (m.type === 'snapshot') this.report(from, fromGen, m.to, 'snapshot-failed');
    else if (reason !== 'loss' && m.type === 'append' && this.random.chance(0.5)) {
      this.report(from, fromGen, m.to, 'unreachable');
    }
  }

  /** Schedules `report` about `peer` to reach node `node` (incarnation `gen`) after a network delay. */
  private report(node: number, gen: number, peer: NodeId, report: ReportEvent['report']): void {
    const p = this.network.profile;
    const delay = this.random.int(p.minDelayMs, p.maxDelayMs);
    this.scheduler.push({
      kind: 'report',
      time: this.scheduler.now + delay,
      seq: 0,
      node,
      gen,
      peer,
      report,
    });
  }
}
