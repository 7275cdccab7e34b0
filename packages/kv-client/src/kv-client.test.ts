import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, type TestOptions, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type FakeKvCluster, type SeenRequest, startFakeKvCluster } from './fake-kv-server.test.helper.js';
import { createKvClient, type KvClient } from './kv-client.js';
import { KV_ERROR_CODE_KEY, KvError } from './kv-error.js';
import type { KvCallMode } from './kv-stub.js';

const TEST_TIMEOUT = { timeout: 10_000 };
const text = new TextDecoder();
const str = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : text.decode(bytes));
const writes = (cluster: FakeKvCluster, method = 'Put') => cluster.seen.filter((r) => r.method === method);

/** Both ways a client sends its requests: every behaviour below holds for each. */
const CALL_MODES: readonly KvCallMode[] = ['unary', 'stream'];

/** Registers `body` as one test per call mode, named `name [mode]`. */
function eachMode(name: string, options: TestOptions, body: (calls: KvCallMode) => Promise<void>): void {
  for (const calls of CALL_MODES) test(`${name} [${calls}]`, options, () => body(calls));
}

/**
 * Runs `body` with a fresh cluster and a client sending its requests as `calls` says, closing both whatever
 * happens; then checks that every request but Status arrived that way.
 */
async function withCluster(
  calls: KvCallMode,
  size: number,
  body: (cluster: FakeKvCluster, client: KvClient) => Promise<void>,
  timeoutMs = 2_000,
): Promise<void> {
  const cluster = await startFakeKvCluster(size);
  const client = createKvClient({ endpoints: cluster.addresses, timeoutMs, calls });
  try {
    await body(cluster, client);
  } finally {
    client.close();
    cluster.close();
  }
  const astray = cluster.seen.filter((r) => r.method !== 'Status' && r.via !== calls);
  assert.deepEqual(astray, [], `requests that did not arrive as ${calls} calls`);
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<KvError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KvError, `not a KvError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

eachMode('put, get, delete and compareAndSwap round-trip, with strings as UTF-8', TEST_TIMEOUT, (calls) =>
  withCluster(calls, 1, async (_cluster, kv) => {
    await kv.put('a', 'één');
    assert.equal(str(await kv.get('a')), 'één');
    assert.equal(await kv.get('missing'), undefined);
    await kv.put(new Uint8Array([0, 255]), new Uint8Array([1, 2]));
    assert.deepEqual(
      await kv.get(new Uint8Array([0, 255]), { consistency: 'stale' }),
      new Uint8Array([1, 2]),
    );
    // Absent expected: succeeds only while the key does not exist.
    assert.deepEqual(await kv.compareAndSwap('b', undefined, 'x'), {
      succeeded: true,
      value: new TextEncoder().encode('x'),
    });
    const again = await kv.compareAndSwap('b', undefined, 'y');
    assert.equal(again.succeeded, false);
    assert.equal(str(again.value), 'x');
    const swapped = await kv.compareAndSwap('b', 'x', 'z');
    assert.equal(swapped.succeeded, true);
    assert.equal(str(swapped.value), 'z');
    const wrong = await kv.compareAndSwap('b', 'nope', 'w');
    assert.equal(wrong.succeeded, false);
    assert.equal(str(wrong.value), 'z');
    const onMissing = await kv.compareAndSwap('c', 'x', 'y');
    assert.deepEqual(onMissing, { succeeded: false, value: undefined });
    assert.equal(await kv.delete('a'), true);
    assert.equal(await kv.delete('a'), false);
    assert.equal(await kv.get('a', { consistency: 'linearizable' }), undefined);
  }),
);

eachMode('writes carry one session, increasing sequences and firstIncomplete', TEST_TIMEOUT, (calls) =>
  withCluster(calls, 1, async (cluster, kv) => {
    await kv.put('k', '1');
    await kv.delete('k');
    await kv.compareAndSwap('k', undefined, '2');
    const sessions = cluster.seen.filter((r) => r.session !== undefined).map((r) => r.session!);
    assert.equal(sessions.length, 3);
    assert.notEqual(sessions[0]!.sessionId, 0n);
    assert.ok(sessions.every((s) => s.sessionId === sessions[0]!.sessionId));
    assert.deepEqual(
      sessions.map((s) => [s.sequence, s.firstIncomplete]),
      [
        [1n, 1n],
        [2n, 2n],
        [3n, 3n],
      ],
    );
    // Concurrent writes: still one session, distinct sequences, firstIncomplete never past a pending write.
    await Promise.all(Array.from({ length: 5 }, (_, i) => kv.put(`c${i}`, 'v')));
    assert.equal(cluster.opened(), 1);
    const concurrent = writes(cluster).slice(1);
    assert.deepEqual(concurrent.map((r) => r.session!.sequence).sort(), [4n, 5n, 6n, 7n, 8n]);
    for (const r of concurrent) {
      assert.ok(r.session!.firstIncomplete >= 4n && r.session!.firstIncomplete <= r.session!.sequence);
    }
  }),
);

eachMode('concurrent first writes share one OpenSession', TEST_TIMEOUT, (calls) =>
  withCluster(calls, 1, async (cluster, kv) => {
    await Promise.all([kv.put('a', '1'), kv.put('b', '2'), kv.delete('c')]);
    assert.equal(cluster.opened(), 1);
    assert.equal(cluster.seen.filter((r) => r.method === 'OpenSession').length, 1);
  }),
);

eachMode('firstIncomplete stays at a write still awaiting its answer', TEST_TIMEOUT, (calls) =>
  withCluster(
    calls,
    1,
    async (cluster, kv) => {
      let hung = false;
      const firstSeen = new Promise<void>((resolve) => {
        cluster.hooks[0]!.before = (method) => {
          if (method !== 'Put' || hung) return undefined;
          hung = true;
          resolve();
          return 'hang';
        };
      });
      const first = kv.put('slow', '1');
      await firstSeen;
      await kv.put('fast', '2');
      // The first put's attempt times out after half the 1 500 ms budget and is retried with its sequence.
      await first;
      const puts = writes(cluster).map((r) => [r.session!.sequence, r.session!.firstIncomplete]);
      assert.deepEqual(puts, [
        [1n, 1n],
        [2n, 1n],
        [1n, 1n],
      ]);
      assert.equal(str(await kv.get('slow')), '1');
    },
    1_500,
  ),
);

eachMode(
  'a write refused UNAVAILABLE by the first endpoint is retried on the next with the same sequence',
  TEST_TIMEOUT,
  (calls) =>
    withCluster(calls, 2, async (cluster, kv) => {
      cluster.hooks[0]!.before = (method) =>
        method === 'Put' ? new KvError('NOT_LEADER', 'ask someone else') : undefined;
      await kv.put('k', 'v');
      const puts = writes(cluster);
      assert.deepEqual(
        puts.map((r) => r.member),
        [0, 1],
      );
      assert.deepEqual(puts[0]!.session, puts[1]!.session);
      assert.equal(cluster.applied(), 1);
      // The endpoint that answered is tried first from now on.
      assert.equal(str(await kv.get('k')), 'v');
      assert.equal(cluster.seen.at(-1)!.member, 1);
    }),
);

eachMode('reads retry on a tagged UNAVAILABLE and move to the next endpoint', TEST_TIMEOUT, (calls) =>
  withCluster(calls, 2, async (cluster, kv) => {
    cluster.hooks[0]!.before = () => new KvError('UNAVAILABLE', 'no leader');
    assert.equal(await kv.get('k'), undefined);
    assert.deepEqual(
      cluster.seen.map((r) => [r.member, r.method]),
      [
        [0, 'Get'],
        [1, 'Get'],
      ],
    );
  }),
);

eachMode('an endpoint nothing listens on is skipped', TEST_TIMEOUT, async (calls) => {
  const cluster = await startFakeKvCluster(1);
  // Port 1 on loopback refuses connections at once.
  const kv = createKvClient({ endpoints: ['127.0.0.1:1', ...cluster.addresses], timeoutMs: 3_000, calls });
  try {
    await kv.put('k', 'v');
    assert.equal(str(await kv.get('k')), 'v');
  } finally {
    kv.close();
    cluster.close();
  }
});

eachMode(
  'a write answered OUTCOME_UNKNOWN is retried with the same sequence and applied once',
  TEST_TIMEOUT,
  (calls) =>
    withCluster(calls, 1, async (cluster, kv) => {
      let failed = false;
      cluster.hooks[0]!.after = (method) => {
        if (method !== 'CompareAndSwap' || failed) return undefined;
        failed = true;
        return new KvError('OUTCOME_UNKNOWN', 'lost leadership before the answer');
      };
      // Applied twice, the second swap would fail: the key no longer is absent.
      const result = await kv.compareAndSwap('k', undefined, 'v');
      assert.equal(result.succeeded, true);
      const attempts = writes(cluster, 'CompareAndSwap');
      assert.equal(attempts.length, 2);
      assert.deepEqual(attempts[0]!.session, attempts[1]!.session);
      assert.equal(cluster.applied(), 1);
    }),
);

eachMode(
  'a write that outlives its deadline rejects DEADLINE_EXCEEDED, outcome unknown',
  TEST_TIMEOUT,
  (calls) =>
    withCluster(calls, 2, async (cluster, kv) => {
      await kv.delete('warm-up'); // opens the session
      for (const hooks of cluster.hooks) hooks.before = (method) => (method === 'Put' ? 'hang' : undefined);
      const started = Date.now();
      const error = await rejectsWith(kv.put('k', 'v', { timeoutMs: 400 }), 'DEADLINE_EXCEEDED');
      assert.equal(error.outcomeUnknown, true);
      assert.equal(error.retryable, true);
      assert.ok(Date.now() - started < 2_000);
      // Each attempt got at most half the budget, so both members were tried with the one sequence.
      const puts = writes(cluster);
      assert.deepEqual(
        puts.slice(0, 2).map((r) => r.member),
        [0, 1],
      );
      assert.deepEqual(puts[0]!.session, puts[1]!.session);
    }),
);

eachMode('a write refused everywhere retries until its deadline', TEST_TIMEOUT, (calls) =>
  withCluster(calls, 2, async (cluster, kv) => {
    await kv.put('warm-up', 'opens the session');
    for (const hooks of cluster.hooks) {
      hooks.before = (method) => (method === 'Delete' ? new KvError('UNAVAILABLE', 'no leader') : undefined);
    }
    const error = await rejectsWith(kv.delete('k', { timeoutMs: 500 }), 'DEADLINE_EXCEEDED');
    assert.ok(writes(cluster, 'Delete').length >= 2);
    assert.ok(error.cause instanceof KvError && error.cause.code === 'UNAVAILABLE');
    // (Whether the outcome is known depends on whether an attempt was still in flight at the deadline.)
  }),
);

eachMode(
  'refusals that say "not applied" keep the outcome known; OUTCOME_UNKNOWN does not',
  TEST_TIMEOUT,
  (calls) =>
    withCluster(calls, 2, async (cluster, kv) => {
      await kv.put('warm-up', 'opens the session');
      const script = (...faults: KvError[]) => {
        let attempt = 0;
        const before = (method: string) => (method === 'Delete' ? faults[attempt++] : undefined);
        for (const hooks of cluster.hooks) hooks.before = before;
      };
      script(
        new KvError('UNAVAILABLE', 'no leader'),
        new KvError('NOT_LEADER', 'not me'),
        new KvError('RESOURCE_EXHAUSTED', 'busy'),
        new KvError('INVALID_ARGUMENT', 'key too long'),
      );
      const known = await rejectsWith(kv.delete('k'), 'INVALID_ARGUMENT');
      assert.equal(known.outcomeUnknown, false);
      script(new KvError('OUTCOME_UNKNOWN', 'maybe'), new KvError('INVALID_ARGUMENT', 'key too long'));
      const unknown = await rejectsWith(kv.delete('k'), 'INVALID_ARGUMENT');
      assert.equal(unknown.outcomeUnknown, true);
      assert.equal(unknown.retryable, false);
    }),
);

eachMode('a read that outlives its deadline rejects DEADLINE_EXCEEDED', TEST_TIMEOUT, (calls) =>
  withCluster(calls, 1, async (cluster, kv) => {
    cluster.hooks[0]!.before = () => 'hang';
    const error = await rejectsWith(kv.get('k', { timeoutMs: 200 }), 'DEADLINE_EXCEEDED');
    assert.equal(error.outcomeUnknown, false);
  }),
);

eachMode(
  'after SESSION_EXPIRED a write not yet applied is renumbered in a new session',
  TEST_TIMEOUT,
  (calls) =>
    withCluster(calls, 1, async (cluster, kv) => {
      await kv.put('a', '1');
      cluster.expireSessions();
      await kv.put('b', '2');
      assert.equal(cluster.opened(), 2);
      const [first, expired, renumbered] = writes(cluster).map((r) => r.session!);
      assert.equal(expired!.sessionId, first!.sessionId);
      assert.notEqual(renumbered!.sessionId, first!.sessionId);
      assert.equal(renumbered!.sequence, 1n);
      assert.equal(str(await kv.get('b')), '2');
    }),
);

eachMode(
  'SESSION_EXPIRED after an attempt that may have been applied rejects, outcome unknown',
  TEST_TIMEOUT,
  (calls) =>
    withCluster(calls, 1, async (cluster, kv) => {
      await kv.put('a', '1');
      let attempts = 0;
      cluster.hooks[0]!.before = (method) => {
        if (method !== 'Put') return undefined;
        attempts++;
        if (attempts === 1) return new KvError('OUTCOME_UNKNOWN', 'maybe');
        cluster.expireSessions();
        return undefined;
      };
      const error = await rejectsWith(kv.put('b', '2'), 'SESSION_EXPIRED');
      assert.equal(error.outcomeUnknown, true);
      assert.equal(cluster.opened(), 1);
    }),
);

eachMode('status reports one member as it answers', TEST_TIMEOUT, (calls) =>
  withCluster(calls, 2, async (cluster, kv) => {
    const s = await kv.status(cluster.addresses[1]!);
    assert.deepEqual(s, {
      memberId: 'm1',
      role: 'follower',
      term: 1,
      leaderId: 'm0',
      commitIndex: 0,
      appliedIndex: 0,
      stateDigest: 'ab',
      voters: ['m0', 'm1'],
      learners: [],
      configId: '',
    });
    assert.deepEqual(
      cluster.seen.map((r) => r.member),
      [1],
    );
  }),
);

eachMode('close() fails calls in flight and later ones with CLOSED', TEST_TIMEOUT, (calls) =>
  withCluster(calls, 1, async (cluster, kv) => {
    await kv.put('a', '1');
    const seen = new Promise<SeenRequest>((resolve) => {
      cluster.onRequest = resolve;
    });
    cluster.hooks[0]!.before = () => 'hang';
    const inFlight = kv.put('b', '2');
    await seen;
    kv.close();
    const error = await rejectsWith(inFlight, 'CLOSED');
    assert.equal(error.outcomeUnknown, true);
    await rejectsWith(kv.get('a'), 'CLOSED');
    await rejectsWith(kv.put('a', '2'), 'CLOSED');
    await rejectsWith(kv.status(cluster.addresses[0]!), 'CLOSED');
    kv.close();
  }),
);

eachMode("the caller's signal aborts an operation with CLOSED", TEST_TIMEOUT, (calls) =>
  withCluster(calls, 1, async (cluster, kv) => {
    cluster.hooks[0]!.before = () => 'hang';
    const controller = new AbortController();
    const seen = new Promise<SeenRequest>((resolve) => {
      cluster.onRequest = resolve;
    });
    const pending = kv.get('k', { signal: controller.signal });
    await seen;
    controller.abort(new Error('user gave up'));
    const error = await rejectsWith(pending, 'CLOSED');
    assert.match(error.message, /aborted/);
    // The client itself still works.
    cluster.hooks[0]!.before = undefined;
    assert.equal(await kv.get('k'), undefined);
  }),
);

/** The member each `method` request was sent to, in order. */
const sentTo = (cluster: FakeKvCluster, method = 'Put') => writes(cluster, method).map((r) => r.member);
/** How many Status requests each member saw. */
const statusCalls = (cluster: FakeKvCluster) =>
  cluster.addresses.map(
    (_, member) => cluster.seen.filter((r) => r.method === 'Status' && r.member === member).length,
  );

describe('writes go to the leader endpoint', () => {
  eachMode(
    'after the first forwarded write, found by one background Status per endpoint',
    TEST_TIMEOUT,
    (calls) =>
      withCluster(calls, 3, async (cluster, kv) => {
        cluster.leader = 2;
        // The first writes go to the first endpoint, which forwards them; they do not wait for the discovery,
        // and however many are answered forwarded at once, each endpoint gets at most one Status.
        await Promise.all(Array.from({ length: 20 }, (_, i) => kv.put(`k${i}`, 'v')));
        assert.equal(sentTo(cluster, 'OpenSession')[0], 0);
        assert.equal(sentTo(cluster)[0], 0);
        // The Status answers arrive in the background; from then on writes go to the leader directly.
        const deadline = Date.now() + 3_000;
        while (sentTo(cluster).at(-1) !== 2) {
          assert.ok(Date.now() < deadline, `writes never reached the leader: ${sentTo(cluster).join(',')}`);
          await delay(10);
          await kv.put('probe', 'v');
        }
        const seenBefore = cluster.seen.length;
        await kv.put('a', '1');
        await kv.delete('a');
        await kv.compareAndSwap('b', undefined, '2');
        await Promise.all(Array.from({ length: 10 }, (_, i) => kv.put(`c${i}`, 'v')));
        const later = cluster.seen.slice(seenBefore).filter((r) => r.session !== undefined);
        assert.equal(later.length, 13);
        assert.ok(
          later.every((r) => r.member === 2),
          later.map((r) => r.member).join(','),
        );
        assert.deepEqual(statusCalls(cluster), [1, 1, 1]);
        // Reads keep using the endpoint that answered last: the leader's, now.
        assert.equal(str(await kv.get('b')), '2');
        assert.equal(cluster.seen.at(-1)!.member, 2);
      }),
  );

  eachMode("an endpoint's id learned from its Status answer is used at once", TEST_TIMEOUT, (calls) =>
    withCluster(calls, 2, async (cluster, kv) => {
      cluster.leader = 1;
      assert.equal((await kv.status(cluster.addresses[1]!)).memberId, 'm1');
      await kv.put('a', '1'); // OpenSession and Put to endpoint 0, forwarded: the leader is m1, at endpoint 1
      await kv.put('b', '2');
      await kv.delete('a');
      assert.deepEqual(sentTo(cluster, 'OpenSession'), [0]);
      assert.deepEqual(sentTo(cluster), [1, 1]);
      assert.deepEqual(sentTo(cluster, 'Delete'), [1]);
      // Only endpoint 0 was unknown: at most its Status was sent in the background; endpoint 1's was ours.
      assert.equal(statusCalls(cluster)[1], 1);
    }),
  );

  eachMode(
    "an endpoint's id learned from a Get's header; a write answered by the member called asks nothing",
    TEST_TIMEOUT,
    (calls) =>
      withCluster(calls, 2, async (cluster, kv) => {
        cluster.leader = 0;
        assert.equal(await kv.get('k'), undefined); // endpoint 0 answers as m0
        await kv.put('k', 'v');
        await kv.put('k', 'w');
        await delay(50);
        assert.deepEqual(sentTo(cluster), [0, 0]);
        assert.deepEqual(statusCalls(cluster), [0, 0]);
      }),
  );

  eachMode(
    'a leader change is followed from the header of the write the old leader forwards',
    TEST_TIMEOUT,
    (calls) =>
      withCluster(calls, 3, async (cluster, kv) => {
        cluster.leader = 2;
        for (const address of cluster.addresses) await kv.status(address);
        await kv.put('a', '1'); // OpenSession to endpoint 0, forwarded: the Put goes to endpoint 2
        cluster.leader = 1;
        await kv.put('b', '2'); // endpoint 2 forwards to m1
        await kv.put('c', '3');
        assert.deepEqual(sentTo(cluster), [2, 2, 1]);
      }),
  );

  eachMode(
    'when the leader endpoint fails, writes go through the others and still succeed',
    TEST_TIMEOUT,
    (calls) =>
      withCluster(calls, 3, async (cluster, kv) => {
        cluster.leader = 2;
        for (const address of cluster.addresses) await kv.status(address);
        await kv.put('a', '1');
        assert.deepEqual(sentTo(cluster), [2]);
        // The leader's endpoint now refuses everything (unreachable from the client; the others still forward).
        cluster.hooks[2]!.before = () => new KvError('UNAVAILABLE', 'unreachable');
        await kv.put('b', '2');
        assert.deepEqual(sentTo(cluster), [2, 2, 0]);
        // For a while, writes do not try the failed endpoint first again, though answers still name m2.
        await kv.put('c', '3');
        await kv.delete('a');
        assert.deepEqual(sentTo(cluster), [2, 2, 0, 0]);
        assert.deepEqual(sentTo(cluster, 'Delete'), [0]);
        assert.equal(cluster.applied(), 4);
        assert.equal(str(await kv.get('c')), '3');
      }),
  );

  eachMode(
    'a leader endpoint that never answers costs one attempt, then writes go around it',
    TEST_TIMEOUT,
    (calls) =>
      withCluster(
        calls,
        3,
        async (cluster, kv) => {
          cluster.leader = 2;
          for (const address of cluster.addresses) await kv.status(address);
          await kv.put('a', '1');
          cluster.hooks[2]!.before = () => 'hang';
          await kv.put('b', '2'); // the first attempt times out at half the budget, then endpoint 0
          await kv.put('c', '3');
          assert.deepEqual(sentTo(cluster), [2, 2, 0, 0]);
          assert.deepEqual(writes(cluster)[1]!.session, writes(cluster)[2]!.session);
        },
        600,
      ),
  );

  eachMode(
    'with the leader unknown (not among the endpoints), writes rotate as before',
    TEST_TIMEOUT,
    async (calls) => {
      const cluster = await startFakeKvCluster(3);
      cluster.leader = 2;
      const kv = createKvClient({ endpoints: cluster.addresses.slice(0, 2), timeoutMs: 2_000, calls });
      try {
        cluster.hooks[0]!.before = (method) =>
          method === 'Put' ? new KvError('UNAVAILABLE', 'down') : undefined;
        await kv.put('a', '1');
        await kv.put('b', '2');
        assert.deepEqual(sentTo(cluster), [0, 1, 1]);
      } finally {
        kv.close();
        cluster.close();
      }
    },
  );
});

eachMode('200 concurrent operations print no warning and leave no listeners behind', TEST_TIMEOUT, (calls) =>
  withCluster(calls, 2, async (cluster, kv) => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      await kv.put('warm-up', 'opens the session');
      // A caller's signal shared by every operation holds one listener too, however many are in flight.
      const shared = new AbortController();
      const signal = shared.signal;
      let held = 0;
      let release!: () => void;
      const allSeen = new Promise<void>((resolve) => {
        release = resolve;
      });
      for (const hooks of cluster.hooks) {
        hooks.before = () => {
          if (++held === 200) release();
          return undefined;
        };
      }
      const pending = Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0 ? kv.put(`k${i}`, 'v', { signal }) : kv.get(`k${i}`, { signal }),
      );
      assert.equal(getEventListeners(signal, 'abort').length, 1);
      await Promise.all([...pending, allSeen]);
      assert.equal(getEventListeners(signal, 'abort').length, 0);
      await delay(20); // warnings are emitted on a later tick
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(
      warnings.map((w) => `${w.name}: ${w.message}`),
      [],
    );
  }),
);

describe('a server given malformed bytes', () => {
  let cluster: FakeKvCluster;
  let raw: Client;
  before(async () => {
    cluster = await startFakeKvCluster(1);
    raw = new Client(cluster.addresses[0]!, credentials.createInsecure());
  });
  after(() => {
    raw.close();
    cluster.close();
  });

  test('answers INVALID_ARGUMENT with the code in the trailer, and keeps serving', TEST_TIMEOUT, async () => {
    const error = await new Promise<ServiceError>((resolve, reject) => {
      raw.makeUnaryRequest(
        '/tsraft.kv.v1.KV/Put',
        (garbage: Buffer) => garbage,
        (bytes: Buffer) => bytes,
        Buffer.from([0x0a, 0x05, 0x01]),
        new Metadata(),
        { deadline: Date.now() + 5_000 },
        (err) => (err ? resolve(err) : reject(new Error('garbage was accepted'))),
      );
    });
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.metadata.get(KV_ERROR_CODE_KEY)[0], 'INVALID_ARGUMENT');
    assert.equal(KvError.from(error).code, 'INVALID_ARGUMENT');
    const kv = createKvClient({ endpoints: cluster.addresses });
    try {
      await kv.put('k', 'v');
      assert.equal(str(await kv.get('k')), 'v');
    } finally {
      kv.close();
    }
  });
});

test('createKvClient refuses an empty endpoint list', () => {
  assert.throws(() => createKvClient({ endpoints: [] }), TypeError);
});
