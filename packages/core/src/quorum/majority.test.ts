import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { majorityCommittedIndex, majorityVoteResult, quorumSize } from './majority.js';

describe('majority quorum', () => {
  it('sizes quorums', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(quorumSize), [1, 2, 2, 3, 3, 4, 4]);
  });

  it('finds the highest index on a majority, whatever the order of match indexes', () => {
    const voters = ['a', 'b', 'c', 'd', 'e'];
    const cases: [number[], number][] = [
      [[5, 5, 5, 5, 5], 5],
      [[1, 2, 3, 4, 5], 3],
      [[5, 4, 3, 2, 1], 3],
      [[9, 0, 0, 9, 1], 1],
      [[7, 7, 0, 0, 7], 7],
    ];
    for (const [matches, expected] of cases) {
      assert.equal(
        majorityCommittedIndex(voters, (id) => matches[voters.indexOf(id)]!),
        expected,
        String(matches),
      );
    }
    assert.equal(
      majorityCommittedIndex(['a', 'b'], (id) => (id === 'a' ? 4 : 2)),
      2,
    );
    assert.equal(
      majorityCommittedIndex([], () => 3),
      0,
    );
  });

  it('tallies votes: won, lost, pending; non-voters do not count', () => {
    const voters = ['a', 'b', 'c'];
    assert.equal(majorityVoteResult(voters, new Map([['a', true]])), 'pending');
    assert.equal(
      majorityVoteResult(
        voters,
        new Map([
          ['a', true],
          ['b', true],
        ]),
      ),
      'won',
    );
    assert.equal(
      majorityVoteResult(
        voters,
        new Map([
          ['a', false],
          ['b', false],
        ]),
      ),
      'lost',
    );
    assert.equal(
      majorityVoteResult(
        voters,
        new Map([
          ['a', true],
          ['x', true],
          ['y', true],
        ]),
      ),
      'pending',
    );
  });
});
