import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RELIABLE_NETWORK, SimNetwork } from './network.js';
import { SimRandom } from './sim-random.js';

it('cuts links in any shape: one way, both ways, isolation, partitions', () => {
  const net = new SimNetwork(4, RELIABLE_NETWORK, new SimRandom(1));
  net.cutOneWay(0, 1);
  assert.ok(net.isCut(0, 1));
  assert.ok(!net.isCut(1, 0));
  net.isolate(2);
  for (const other of [0, 1, 3]) assert.ok(net.isCut(2, other) && net.isCut(other, 2));
  net.partition([
    [0, 1],
    [2, 3],
  ]);
  assert.ok(!net.isCut(0, 1) && !net.isCut(2, 3));
  assert.ok(net.isCut(0, 2) && net.isCut(3, 1));
  assert.equal(net.cutLinks().length, 8);
  net.heal();
  assert.equal(net.partitioned, false);
  assert.deepEqual(net.route(0, 1).kind, 'delivered');
});

it('loses, delays and duplicates at the configured rates', () => {
  const net = new SimNetwork(
    2,
    { ...RELIABLE_NETWORK, lossRate: 0.2, duplicateRate: 0.1, reorderRate: 0.1, reorderDelayMs: 100 },
    new SimRandom(9),
  );
  let lost = 0;
  let dup = 0;
  let late = 0;
  for (let i = 0; i < 10000; i++) {
    const r = net.route(0, 1);
    if (r.kind === 'dropped') lost++;
    else {
      if (r.delays.length === 2) dup++;
      if (r.delays.some((d) => d > RELIABLE_NETWORK.maxDelayMs)) late++;
    }
  }
  assert.ok(Math.abs(lost - 2000) < 200, `lost ${lost}`);
  assert.ok(Math.abs(dup - 800) < 150, `duplicated ${dup}`);
  assert.ok(late > 500, `held back ${late}`);
});
