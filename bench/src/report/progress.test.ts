import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress, formatDuration, type ProgressStep } from './progress.js';

const steps: ProgressStep[] = [
  { suite: 'a', name: 'a/x', round: 1, rounds: 2, estimateSeconds: 1 },
  { suite: 'a', name: 'a/y', round: 1, rounds: 2, estimateSeconds: 1 },
  { suite: 'a', name: 'a/y', round: 2, rounds: 2, estimateSeconds: 1 },
  { suite: 'a', name: 'a/x', round: 2, rounds: 2, estimateSeconds: 1 },
  { suite: 'b', name: 'b/z', round: 1, rounds: 1, estimateSeconds: 10 },
];

test('progress: plain lines name the case, count what is done and estimate the time left', () => {
  let clock = 0;
  const lines: string[] = [];
  const p = createProgress(steps, { write: (t) => lines.push(t), tty: false, now: () => clock });
  p.start(0);
  assert.equal(lines[0], 'bench [0/5 0%] a/x (round 1/2) · 0s elapsed · ~14s left\n');
  clock = 3000; // a/x took 3 s, three times its estimate
  assert.equal(p.finish(), 3);
  p.start(1);
  // a/y is scaled like suite a so far (×3), a/x now takes its measured 3 s, b keeps its estimate.
  assert.equal(p.remainingSeconds(), 3 + 3 + 3 + 10);
  assert.match(lines[1]!, /^bench \[1\/5 20%\] a\/y \(round 1\/2\) · 3s elapsed · ~19s left\n$/);
  clock = 4000;
  assert.equal(p.remainingSeconds(), 2 + 3 + 3 + 10);
  p.stop();
  assert.equal(lines.length, 2);
});

test('progress: on a terminal it rewrites one line and erases it before other output', () => {
  const out: string[] = [];
  const p = createProgress(steps, {
    write: (t) => out.push(t),
    tty: true,
    now: () => 0,
    refreshMs: 0,
    columns: 30,
  });
  p.start(0);
  assert.ok(out[0]!.startsWith('\r\x1b[2Kbench [0/5 0%]'));
  assert.ok(!out[0]!.includes('\n'));
  assert.ok(out[0]!.length <= '\r\x1b[2K'.length + 29, 'fits the terminal');
  p.clear();
  assert.equal(out.at(-1), '\r\x1b[2K');
  p.stop();
});

test('progress: durations', () => {
  assert.equal(formatDuration(42.4), '42s');
  assert.equal(formatDuration(185), '3m05s');
  assert.equal(formatDuration(3720), '1h02m');
});
