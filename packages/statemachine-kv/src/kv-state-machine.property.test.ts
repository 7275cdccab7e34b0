import * as assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { SeededRandom } from '@tsraft/core';
import { encodeKvCommand } from './command-codec.js';
import type { KvCommand, KvSessionRef } from './kv-command.js';
import { createKvStateMachine, type KvStateMachine } from './kv-state-machine.js';
import { snapshotBytes } from './test-support/snapshot-bytes.js';

const OPTIONS = { sessionTtlMs: 2_000, maxSessions: 6 };

/** A client session as the generator tracks it: what it sent, and what it has been answered. */
interface Client {
  readonly id: number;
  next: number;
  firstIncomplete: number;
}

/**
 * Generates a random log from a seed: writes over a small key space (so CAS and delete hit), sessions with
 * retries, out-of-order and stale sequences, expired and evicted sessions, clock jumps, malformed entries.
 */
function* randomLog(seed: number, length: number): Generator<Uint8Array> {
  const rng = new SeededRandom(seed);
  const clients: Client[] = [];
  let now = 1_000;
  const key = () => Buffer.from(`k${rng.nextInt(40)}`);
  const value = () => new Uint8Array(rng.nextInt(20)).map(() => rng.nextInt(256));
  for (let i = 0; i < length; i++) {
    // Mostly small steps; now and then a jump past the TTL, or a leader whose clock lags.
    const roll = rng.nextInt(100);
    now += roll < 1 ? 2_500 : rng.nextInt(50);
    const proposedAtMs = roll === 99 ? Math.max(0, now - 5_000) : now;
    if (rng.nextInt(100) < 2) {
      yield value(); // almost never a valid command
      continue;
    }
    let command: KvCommand;
    const op = rng.nextInt(20);
    if (op < 6) command = { type: 'put', key: key(), value: value() };
    else if (op < 10) command = { type: 'delete', key: key() };
    else if (op < 19) {
      const expected = rng.nextInt(3) === 0 ? undefined : rng.nextInt(2) === 0 ? new Uint8Array(0) : value();
      command = { type: 'compareAndSwap', key: key(), expected, value: value() };
    } else command = { type: 'openSession' };
    const client =
      clients.length > 0 && rng.nextInt(3) > 0 ? clients[rng.nextInt(clients.length)] : undefined;
    if (client === undefined) {
      yield encodeKvCommand({ command, proposedAtMs });
      if (command.type === 'openSession') clients.push({ id: i + 1, next: 1, firstIncomplete: 1 });
      continue;
    }
    let session: KvSessionRef;
    const kind = rng.nextInt(10);
    if (kind < 2 && client.next > 1) {
      // A retry, possibly of something already forgotten.
      const sequence = 1 + rng.nextInt(client.next - 1);
      session = {
        sessionId: client.id,
        sequence,
        firstIncomplete: Math.min(client.firstIncomplete, sequence),
      };
    } else {
      const sequence = client.next++;
      if (rng.nextInt(2) === 0)
        client.firstIncomplete = Math.min(sequence, client.firstIncomplete + rng.nextInt(3));
      session = { sessionId: client.id, sequence, firstIncomplete: client.firstIncomplete };
    }
    yield encodeKvCommand({ command, session, proposedAtMs });
  }
}

async function* pieces(data: Uint8Array, rng: SeededRandom): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < data.byteLength; ) {
    const size = 1 + rng.nextInt(3000);
    yield data.subarray(offset, offset + size);
    offset += size;
  }
}

for (const seed of [1, 2, 3, 0xdecafbad]) {
  test(`seed ${seed}: a machine restored from its own snapshot every 250 entries stays equal to one that never was`, async () => {
    const straight = createKvStateMachine(OPTIONS);
    let restarted: KvStateMachine = createKvStateMachine(OPTIONS);
    const log = [...randomLog(seed, 4_000)];
    const counts = new Map<string, number>();
    for (const [i, data] of log.entries()) {
      const index = i + 1;
      if (index % 250 === 0) {
        // A fresh machine catches up from the other's snapshot, fed back in random pieces.
        const fresh = createKvStateMachine(OPTIONS);
        const meta = { index: restarted.appliedIndex, term: 1, conf: { voters: [], learners: [] } };
        const chunks: Uint8Array[] = [];
        for await (const chunk of restarted.snapshotChunks()) chunks.push(chunk);
        await fresh.restoreChunks(pieces(Buffer.concat(chunks), new SeededRandom(seed)), meta);
        restarted = fresh;
        assert.equal(restarted.digest(), straight.digest(), `digests differ after the restore at ${index}`);
      }
      const a = straight.apply({ index, term: 1, data });
      const b = restarted.apply({ index, term: 1, data });
      assert.deepEqual(b, a, `results differ at index ${index}`);
      const label = a.type === 'rejected' ? a.code : a.type;
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    assert.equal(restarted.digest(), straight.digest());
    assert.ok(Buffer.from(snapshotBytes(restarted)).equals(snapshotBytes(straight)));
    assert.equal(restarted.appliedIndex, 4_000);
    // The log exercised what it is meant to.
    for (const label of [
      'put',
      'delete',
      'compareAndSwap',
      'openSession',
      'SESSION_EXPIRED',
      'STALE_REQUEST',
    ]) {
      assert.ok((counts.get(label) ?? 0) > 0, `no ${label} in ${JSON.stringify([...counts])}`);
    }
  });
}
