import { EventQueue } from './event-queue.js';
import type { CheckerClock } from './safety-checker.js';
import type { SimEvent } from './sim-events.js';

/**
 * The virtual clock of a simulation and the events waiting for it. Time moves only when an event is taken
 * (to that event's time) or when a run asks to move it forward; nothing reads the wall clock.
 *
 * Invariant: `now` never decreases, and `steps` counts exactly the events handed out by {@link next}.
 */
export class SimScheduler implements CheckerClock {
  private clock = 0;
  private stepCount = 0;
  private readonly queue = new EventQueue<SimEvent>();

  /** Virtual time, in ms. */
  get now(): number {
    return this.clock;
  }

  /** Events taken so far (one step each). */
  get steps(): number {
    return this.stepCount;
  }

  /** Events waiting. */
  get pending(): number {
    return this.queue.size;
  }

  /** Adds `event`; it fires at its `time` (ties in the order they were added). */
  push(event: SimEvent): void {
    this.queue.push(event);
  }

  /** The next event to fire (possibly a cancelled one), without taking it. */
  peek(): SimEvent | undefined {
    return this.queue.peek();
  }

  /**
   * Takes the next event that is not cancelled, moves the clock to its time and counts it as a step.
   * Returns `undefined` when none is left.
   */
  next(): SimEvent | undefined {
    for (;;) {
      const event = this.queue.pop();
      if (event === undefined) return undefined;
      if (event.kind === 'call' && event.cancelled) continue;
      this.clock = event.time;
      this.stepCount++;
      return event;
    }
  }

  /** Moves the clock forward to `time`; a time already past leaves it where it is. */
  advanceTo(time: number): void {
    this.clock = Math.max(this.clock, time);
  }
}
