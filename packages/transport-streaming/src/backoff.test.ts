import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBackoff } from './backoff.js';

test('delays double from the base up to the maximum, each within [cap/2, cap)', () => {
  let r = 0;
  const randoms = [0, 0.999, 0.5];
  const backoff = createBackoff({ baseMs: 100, maxMs: 1_000, random: () => randoms[r++ % randoms.length]! });
  const caps = [100, 200, 400, 800, 1_000, 1_000];
  for (const cap of caps) {
    const delay = backoff.nextDelayMs();
    assert.ok(delay >= cap / 2 && delay < cap, `${delay} not in [${cap / 2}, ${cap})`);
  }
});

test('reset starts over from the base delay', () => {
  const backoff = createBackoff({ baseMs: 100, maxMs: 10_000, random: () => 0 });
  for (let i = 0; i < 5; i++) backoff.nextDelayMs();
  backoff.reset();
  assert.equal(backoff.nextDelayMs(), 50);
});

test('jitter spreads the delays of peers that fail together', () => {
  const delays = new Set<number>();
  for (let i = 0; i < 20; i++)
    delays.add(createBackoff({ baseMs: 1_000, maxMs: 1_000, random: Math.random }).nextDelayMs());
  assert.ok(delays.size > 10);
});
