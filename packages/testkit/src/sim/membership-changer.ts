import { type ConfState, configId, isMember, type MemberChange, type NodeId } from '@tsraft/core';
import type { Simulation } from './simulation.js';
import { InvariantViolation } from './violation.js';

/** The kinds of membership change the {@link MembershipChanger} chooses from. */
export type MembershipAction =
  /** Add a spare server as a learner. */
  | 'addLearner'
  /** Promote a learner to voter. */
  | 'promote'
  /** Add a spare server as a voter directly. */
  | 'addVoter'
  /** Remove a voter (often the leader itself). */
  | 'removeVoter'
  /** Replace a voter (often the leader, or one that is down) by a spare server in one change: joint consensus. */
  | 'replace'
  /** Remove a learner. */
  | 'removeLearner'
  /** Add two voters or remove two at once: joint consensus. */
  | 'resize';

/** What membership changes a run goes through and how often. Times are virtual milliseconds. */
export interface MembershipProfile {
  /** Mean time between attempts (each waits uniformly between half and one and a half of it). */
  readonly meanIntervalMs: number;
  /** Relative weight of each kind of change (among those possible at the time). */
  readonly weights: Readonly<Record<MembershipAction, number>>;
  /** Never fewer voters than this. */
  readonly minVoters: number;
  /** Never more voters than this. */
  readonly maxVoters: number;
  /** Probability that a removal or replacement aims at the leader itself. */
  readonly leaderBias: number;
}

/** Counters of a {@link MembershipChanger}. */
export interface MembershipStats {
  /** Changes proposed at a leader (including those it refused). */
  readonly attempts: number;
  /** Changes the leader accepted (appended to its log); not all of them commit. */
  readonly accepted: number;
}

const CODE_MEMBERSHIP = 400;

/**
 * Changes the membership of a {@link Simulation} at random times, every choice drawn from the simulation's
 * generator: spare servers are added as learners or voters, learners promoted, voters removed (the leader
 * itself often) or replaced (two voters at once through a joint configuration), learners removed. Each
 * change is asked of whichever node leads now, decided against the configuration it has in force; refusals
 * (`NOT_LEADER`, `CONF_CHANGE_IN_PROGRESS`, `TRANSFER_IN_PROGRESS`) are part of the game. Faults go on
 * meanwhile, so changes land during partitions, crashes and elections.
 *
 * A removed id is never added again. The voter count stays within `[minVoters, maxVoters]`, drifting back
 * towards the initial size.
 *
 * The core must never refuse a change with `INVALID_ARGUMENT` or `CONFIG_MISMATCH`: the change is built from
 * the configuration the leader reports in force, with that configuration's id. Such a refusal is reported as
 * a `core-error` violation.
 */
export class MembershipChanger {
  private active = false;
  private readonly retired = new Set<NodeId>();
  private readonly target: number;
  private attemptCount = 0;
  private acceptedCount = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly profile: MembershipProfile,
  ) {
    this.target = sim.initialConf.voters.length;
  }

  /** Counters so far. */
  get stats(): MembershipStats {
    return { attempts: this.attemptCount, accepted: this.acceptedCount };
  }

  /** Starts changing the membership. */
  start(): void {
    this.active = true;
    this.scheduleNext();
  }

  /** Stops (changes in flight still complete; a joint configuration is still left). */
  stop(): void {
    this.active = false;
  }

  private scheduleNext(): void {
    const mean = this.profile.meanIntervalMs;
    const delay = this.sim.random.int(
      Math.max(1, Math.floor(mean / 2)),
      Math.max(1, Math.ceil((mean * 3) / 2)),
    );
    this.sim.schedule(delay, CODE_MEMBERSHIP, 'membership changer wakes', () => {
      if (!this.active) return;
      this.change();
      this.scheduleNext();
    });
  }

  private change(): void {
    const sim = this.sim;
    const leader = sim.leader();
    if (leader === null) return;
    const conf = sim.status(leader).conf;
    const changes = this.choose(leader, conf);
    if (changes === null) return;
    const random = sim.random;
    const options = random.chance(0.5) ? { expectedConfigId: configId(conf) } : {};
    this.attemptCount++;
    const handle = sim.proposeConfChange(leader, changes, options);
    const outcome = handle.outcome;
    if (handle.index === null) {
      if (
        outcome?.status === 'failed' &&
        (outcome.code === 'INVALID_ARGUMENT' || outcome.code === 'CONFIG_MISMATCH')
      ) {
        throw new InvariantViolation(
          'core-error',
          `${leader} refused membership change ${changes.map((c) => `${c.type} ${c.nodeId}`).join(' + ')} with ${outcome.code}, though it was built from the configuration it has in force (voters [${conf.voters.join(',')}] learners [${conf.learners.join(',')}])`,
          sim.now,
          sim.steps,
        );
      }
      return;
    }
    this.acceptedCount++;
    for (const c of changes) if (c.type === 'removeNode') this.retired.add(c.nodeId);
  }

  /** A random change that fits `conf` and the profile's bounds, or `null` when none does. */
  private choose(leader: NodeId, conf: ConfState): MemberChange[] | null {
    const sim = this.sim;
    const random = sim.random;
    const p = this.profile;
    const voters = conf.voters;
    const learners = conf.learners;
    const addable = sim.nodeIds.filter(
      (id) => !isMember(conf, id) && !this.retired.has(id) && sim.status(id).membership !== 'removed',
    );
    const maxMembers = p.maxVoters + 2;
    const v = voters.length;
    // Drift back towards the initial size: growing is less likely above it, shrinking below it.
    const grow = v < this.target ? 3 : v > this.target ? 0.3 : 1;
    const shrink = v > this.target ? 3 : v < this.target ? 0.3 : 1;
    const w = p.weights;
    const weights: Record<MembershipAction, number> = {
      addLearner: addable.length > 0 && v + learners.length < maxMembers ? w.addLearner : 0,
      promote: learners.length > 0 && v < p.maxVoters ? w.promote * grow : 0,
      addVoter: addable.length > 0 && v < p.maxVoters ? w.addVoter * grow : 0,
      removeVoter: v > p.minVoters ? w.removeVoter * shrink : 0,
      replace: addable.length > 0 && v > 0 ? w.replace : 0,
      removeLearner: learners.length > 0 ? w.removeLearner : 0,
      resize:
        (addable.length >= 2 && v + 2 <= p.maxVoters) || v - 2 >= p.minVoters
          ? w.resize * (grow + shrink) * 0.5
          : 0,
    };
    if (!Object.values(weights).some((x) => x > 0)) return null;
    const address = (id: NodeId): { address?: string } =>
      random.chance(0.5) ? { address: `sim://${id}` } : {};
    switch (random.weighted(weights)) {
      case 'addLearner': {
        const id = random.pick(addable);
        return [{ type: 'addLearner', nodeId: id, ...address(id) }];
      }
      case 'promote':
        return [{ type: 'addVoter', nodeId: random.pick(learners) }];
      case 'addVoter': {
        const id = random.pick(addable);
        return [{ type: 'addVoter', nodeId: id, ...address(id) }];
      }
      case 'removeVoter':
        return [{ type: 'removeNode', nodeId: this.victim(leader, voters) }];
      case 'replace': {
        const id = random.pick(addable);
        return [
          { type: 'addVoter', nodeId: id, ...address(id) },
          { type: 'removeNode', nodeId: this.victim(leader, voters) },
        ];
      }
      case 'removeLearner':
        return [{ type: 'removeNode', nodeId: random.pick(learners) }];
      case 'resize': {
        const canGrow = addable.length >= 2 && v + 2 <= p.maxVoters;
        const canShrink = v - 2 >= p.minVoters;
        if (canGrow && (!canShrink || random.chance(grow / (grow + shrink)))) {
          const [a, b] = random.shuffled(addable);
          return [
            { type: 'addVoter', nodeId: a! },
            { type: 'addVoter', nodeId: b! },
          ];
        }
        const first = this.victim(leader, voters);
        const second = random.pick(voters.filter((id) => id !== first));
        return [
          { type: 'removeNode', nodeId: first },
          { type: 'removeNode', nodeId: second },
        ];
      }
    }
  }

  /** A voter to remove: often the leader, else often one that is down, else any. */
  private victim(leader: NodeId, voters: readonly NodeId[]): NodeId {
    const random = this.sim.random;
    if (random.chance(this.profile.leaderBias) && voters.includes(leader)) return leader;
    const down = voters.filter((id) => !this.sim.status(id).up);
    if (down.length > 0 && random.chance(0.5)) return random.pick(down);
    return random.pick(voters);
  }
}
