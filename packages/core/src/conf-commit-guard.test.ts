import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfCommitGuard } from './conf-commit-guard.js';
import type { Entry } from './entry.js';

function entries(from: number, types: Entry['type'][]): Entry[] {
  return types.map((type, i) => ({ term: 1, index: from + i, type, data: new Uint8Array(0) }));
}

describe('ConfCommitGuard', () => {
  it('asks for a sync and holds the commit index back only across a configuration entry', () => {
    const guard = new ConfCommitGuard(3, entries(4, ['normal', 'config', 'normal']));
    assert.equal(guard.mustSync(4), false);
    assert.equal(guard.revealable(4), 4);
    assert.equal(guard.mustSync(5), true);
    assert.equal(guard.revealable(6), 4, 'a commit passing entry 5 waits until it is durable');
  });

  it('reveals the commit once a synced write carried it, not after an unsynced one', () => {
    const guard = new ConfCommitGuard(0, entries(1, ['config']));
    assert.equal(guard.written(1, false), false);
    assert.equal(guard.revealable(1), 0);
    assert.equal(guard.written(1, true), true);
    assert.equal(guard.revealable(1), 1);
    assert.equal(guard.mustSync(1), false);
    assert.equal(guard.written(1, true), false, 'nothing more to reveal');
  });

  it('forgets configuration entries replaced by a conflicting append or a snapshot', () => {
    const guard = new ConfCommitGuard(0, entries(1, ['normal', 'config', 'config']));
    guard.appended(entries(2, ['normal']));
    assert.equal(guard.revealable(2), 2, 'entry 2 is no longer a configuration entry');
    assert.equal(guard.revealable(3), 2, 'entry 3 (outside the append) is still one');
    guard.restored();
    assert.equal(guard.mustSync(10), false);
    assert.equal(guard.revealable(10), 10);
  });

  it('ignores configuration entries at or below the durable commit index', () => {
    const guard = new ConfCommitGuard(5, []);
    guard.appended(entries(5, ['config', 'config']));
    assert.equal(guard.revealable(5), 5);
    assert.equal(guard.revealable(6), 5);
  });
});
