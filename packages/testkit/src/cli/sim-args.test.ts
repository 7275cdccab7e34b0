import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseSimArgs } from './sim-args.js';

it('parses the documented options', () => {
  assert.deepEqual(parseSimArgs(['--seeds', '20000', '--start', '7', '--steps=2000', '--trace']), {
    seeds: 20000,
    start: 7,
    steps: 2000,
    workers: undefined,
    trace: true,
    membership: true,
    unsafeCore: undefined,
    workload: undefined,
    help: false,
  });
  assert.equal(parseSimArgs(['--unsafe-core', 'disableFigure8Rule']).unsafeCore, 'disableFigure8Rule');
  assert.equal(parseSimArgs(['--workers', '0']).workers, 0);
  assert.equal(parseSimArgs(['--no-membership']).membership, false);
  assert.equal(parseSimArgs(['--', '--seeds', '3']).seeds, 3);
});

it('rejects what it does not know', () => {
  assert.throws(() => parseSimArgs(['--seed', '3']), /unknown option/);
  assert.throws(() => parseSimArgs(['--seeds', '-1']), /integer >= 0/);
  assert.throws(() => parseSimArgs(['--seeds']), /needs a value/);
  assert.throws(() => parseSimArgs(['--unsafe-core', 'nope']), /must be one of/);
});
