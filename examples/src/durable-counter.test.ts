// Smoke test of the durable-counter example (docs/compose-a-node.md): it runs to completion on disk
// storage and the streaming transport, shuts down gracefully on SIGTERM, and removes its data either way.
import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./durable-counter.js', import.meta.url));

interface Run {
  readonly child: ChildProcess;
  /** Resolves with the exit code and the output once the process exits (killed after `timeoutMs`). */
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Resolves once stdout matches `pattern`. */
  waitFor(pattern: RegExp): Promise<void>;
}

function run(args: string[], timeoutMs = 60_000): Run {
  const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(stdout)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`durable-counter did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  const waitFor = (pattern: RegExp): Promise<void> =>
    pattern.test(stdout)
      ? Promise.resolve()
      : Promise.race([
          new Promise<void>((resolve) => waiters.push({ pattern, resolve })),
          done.then(() => {
            throw new Error(`exited before printing ${pattern}\n${stdout}\n${stderr}`);
          }),
        ]);
  return { child, done, waitFor };
}

/** The temporary data directory the example printed. */
function dataDirOf(stdout: string): string {
  const match = /^Data under (.+)$/m.exec(stdout);
  assert.ok(match?.[1], `no data directory in the output\n${stdout}`);
  return match[1];
}

test('durable-counter runs on disk and the streaming transport, survives a restart, cleans up', async () => {
  const { code, stdout, stderr } = await run([]).done;
  assert.equal(code, 0, `exit code ${code}\n${stdout}\n${stderr}`);
  assert.match(stdout, /Leader elected: n\d/);
  assert.match(stdout, /n\d refused a proposal: NOT_LEADER, leader hint n\d/);
  assert.match(stdout, /10 adds of 1 to visits: results 1\.\.10/);
  assert.match(stdout, /Linearizable read on follower n\d: visits=10/);
  assert.match(stdout, /restored from snapshots at n1:\d+ n2:\d+ n3:\d+/);
  assert.match(stdout, /OK: after a full restart all 3 replicas hold errors=3 visits=15/);
  const dir = dataDirOf(stdout);
  assert.match(stdout, new RegExp(`Removed ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal(existsSync(dir), false, `${dir} is still there`);
  assert.doesNotMatch(stderr, /crash-stopped|FAILED/);
});

test('durable-counter --serve shuts down gracefully on SIGTERM', async () => {
  const running = run(['--serve']);
  try {
    await running.waitFor(/Serving until SIGTERM or SIGINT/);
    running.child.kill('SIGTERM');
    const { code, stdout, stderr } = await running.done;
    assert.equal(code, 0, `exit code ${code}\n${stdout}\n${stderr}`);
    assert.match(stdout, /SIGTERM: shutting down gracefully/);
    const dir = dataDirOf(stdout);
    assert.equal(existsSync(dir), false, `${dir} is still there`);
  } finally {
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
  }
});
