import assert from 'node:assert/strict';
import { it } from 'node:test';
import { EventQueue } from './event-queue.js';
import { SimRandom } from './sim-random.js';

it('orders events by time, then by the order they were pushed', () => {
  const q = new EventQueue<{ time: number; seq: number; id: number }>();
  const random = new SimRandom(3);
  const pushed: { time: number; seq: number; id: number }[] = [];
  for (let id = 0; id < 500; id++) {
    const e = { time: random.int(0, 40), seq: 0, id };
    pushed.push(e);
    q.push(e);
  }
  const expected = pushed.slice().sort((a, b) => a.time - b.time || a.id - b.id);
  const popped: number[] = [];
  for (let e = q.pop(); e !== undefined; e = q.pop()) popped.push(e.id);
  assert.deepEqual(
    popped,
    expected.map((e) => e.id),
  );
});

it('SimRandom replays the same stream for the same seed', () => {
  const a = new SimRandom(123456789012);
  const b = new SimRandom(123456789012);
  const c = new SimRandom(123456789013);
  const xs = Array.from({ length: 20 }, () => a.uint32());
  assert.deepEqual(
    xs,
    Array.from({ length: 20 }, () => b.uint32()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 20 }, () => c.uint32()),
  );
  for (let i = 0; i < 1000; i++) {
    const v = a.int(3, 7);
    assert.ok(v >= 3 && v <= 7 && Number.isInteger(v));
  }
});
