// Smoke test: each example runs to completion, exits 0 and prints its success line.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** Runs a compiled example (beside this file in dist/) and returns its exit code and output. */
function run(
  script: string,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('in-process-cluster (the README quick start) succeeds', async () => {
  const { code, stdout, stderr } = await run('./in-process-cluster.js');
  assert.equal(code, 0, `exit code ${code}\n${stdout}\n${stderr}`);
  assert.match(stdout, /Leader elected: n\d/);
  assert.match(stdout, /New leader elected: n\d/);
  assert.match(stdout, /OK: all 3 replicas agree on 8 keys\./);
});

test('custom-state-machine succeeds', async () => {
  const { code, stdout, stderr } = await run('./custom-state-machine.js');
  assert.equal(code, 0, `exit code ${code}\n${stdout}\n${stderr}`);
  assert.match(stdout, /OK: every replica, and one restored from a snapshot, holds alice=10 bob=90/);
});

test('raw-node-loop (the core README tutorial) succeeds', async () => {
  const { code, stdout, stderr } = await run('./raw-node-loop.js');
  assert.equal(code, 0, `exit code ${code}\n${stdout}\n${stderr}`);
  assert.match(stdout, /applied: set x=1, set y=2, set z=3/);
  assert.match(stdout, /OK: elected, replicated, committed and applied without I\/O/);
});
