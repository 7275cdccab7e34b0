import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callNode, EventList, isCallNode, nodeOperation } from './event-list.js';
import type { Operation } from './history.js';

const op = (call: number, ret: number): Operation<null, null> => ({
  clientId: 0,
  input: null,
  output: null,
  call,
  return: ret,
});

/** Renders a list as `c0 r0 ...`. */
function render(list: EventList, unknown = false): string {
  return list
    .toArray(unknown)
    .map((n) => `${isCallNode(n) ? 'c' : 'r'}${nodeOperation(n)}`)
    .join(' ');
}

describe('EventList', () => {
  it('orders events by time and keeps unknown-outcome calls, without returns, in a list of their own', () => {
    const unknown = { ...op(3, Number.POSITIVE_INFINITY), output: undefined };
    const list = new EventList([op(5, 20), op(0, 10), unknown, { ...op(12, 13), unknown: true }]);
    assert.equal(render(list), 'c1 c0 r1 r0');
    assert.equal(render(list, true), 'c2 c3');
    assert.deepEqual([list.known[2], list.known[3]], [0, 0]);
    const at = (node: number): number => list.position[node]!;
    // One time line across both lists: c1 c2 c0 r1 c3 r0.
    assert.deepEqual(
      [callNode(1), callNode(2), callNode(0), callNode(1) + 1, callNode(3), callNode(0) + 1].map(at),
      [0, 1, 2, 3, 4, 5],
    );
    list.lift(2);
    assert.equal(render(list, true), 'c3');
    list.unlift(2);
    assert.equal(render(list, true), 'c2 c3');
  });

  it('treats equal times as concurrent by default and as ordered on request', () => {
    const history = [op(0, 10), op(10, 20), op(10, 10)];
    assert.equal(render(new EventList(history)), 'c0 c1 c2 r0 r2 r1');
    assert.equal(render(new EventList(history, 'ordered')), 'c0 r0 c1 c2 r2 r1');
  });

  it('lifts and unlifts in LIFO order, restoring the list exactly', () => {
    const list = new EventList([op(0, 10), op(1, 11), op(2, 12)]);
    const before = render(list);
    list.lift(1);
    assert.equal(render(list), 'c0 c2 r0 r2');
    list.lift(0);
    assert.equal(render(list), 'c2 r2');
    list.lift(2);
    assert.equal(render(list), '');
    list.unlift(2);
    list.unlift(0);
    assert.equal(render(list), 'c0 c2 r0 r2');
    list.unlift(1);
    assert.equal(render(list), before);
    assert.equal(list.first(), callNode(0));
  });
});
