import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openLogStorage } from './disk-log-storage.js';
import { crashPayload } from './test-support/crash-child.js';
import { tempDir } from './test-support/temp-dir.js';

const CHILD = fileURLToPath(new URL('./test-support/crash-child.js', import.meta.url));

/** Runs the child until it acknowledged at least `acks` more indexes, then kills it with SIGKILL. */
function runAndKill(dir: string, acks: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acknowledged = 0;
    let seen = 0;
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child acknowledged only ${seen} saves in time`));
    }, 20_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        acknowledged = Math.max(acknowledged, Number(line));
        seen++;
      }
      if (seen >= acks) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(acknowledged);
      else reject(new Error(`the child exited on its own (${_code})`));
    });
  });
}

test('killed with SIGKILL mid-append, the reopened log holds every acknowledged entry and nothing torn', async () => {
  const { dir, remove } = tempDir();
  try {
    let previous = 0;
    for (let round = 0; round < 3; round++) {
      const acknowledged = await runAndKill(dir, 150);
      assert.ok(acknowledged > previous, `round ${round} made progress`);
      const storage = await openLogStorage({ dir, nodeId: 'a', clusterId: 'crash', segmentBytes: 16 * 1024 });
      try {
        assert.ok(
          storage.lastIndex() >= acknowledged,
          `last ${storage.lastIndex()} < acknowledged ${acknowledged}`,
        );
        const entries = storage.entries(1, storage.lastIndex() + 1);
        entries.forEach((e, i) => {
          assert.equal(e.index, i + 1);
          assert.deepEqual(e.data, crashPayload(e.index));
        });
        assert.ok(storage.initialState().hardState.commit >= acknowledged);
      } finally {
        await storage.close();
      }
      previous = acknowledged;
    }
  } finally {
    remove();
  }
});
