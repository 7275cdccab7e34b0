// End-to-end: real `tsraft serve` processes with mutual TLS, and with peers named by a DNS name.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { createKvClient, KvError, type KvTlsFiles } from '@tsraft/kv-client';
import { GetRequestSchema, ReadConsistency } from '@tsraft/proto';
import { generateTestCertificates, hasOpenssl, type TestCertificates } from '@tsraft/testkit';
import { CLI, ProcessCluster } from '../test-support/process-cluster.js';

const text = new TextDecoder();
const bytes = (s: string) => new TextEncoder().encode(s);

/** Every child this file starts besides the cluster's own, killed in the `after` hooks if still running. */
const children = new Set<ChildProcess>();
/** Temporary directories of this file, removed at the end. */
const tempDirs: string[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs the built `tsraft` with `args` and extra `env`, killed if it outlives `timeoutMs`. */
function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    // No client settings leak in from the environment the tests run in.
    env: {
      ...process.env,
      TSRAFT_ENDPOINTS: '',
      TSRAFT_TIMEOUT_MS: '',
      TSRAFT_TLS_CA: '',
      TSRAFT_TLS_CERT: '',
      TSRAFT_TLS_KEY: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tsraft ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Reads `key` at member `id` only (no forwarding on the client side), with the given consistency. */
async function readAt(
  cluster: ProcessCluster,
  id: string,
  key: string,
  consistency = ReadConsistency.UNSPECIFIED,
): Promise<string | undefined> {
  const answer = await cluster
    .stub(id)
    .get(create(GetRequestSchema, { key: bytes(key), consistency }), { deadlineMs: Date.now() + 10_000 });
  return answer.found ? text.decode(answer.value) : undefined;
}

/** Asserts that `key` reads `expected` at every member, by a linearizable read served by that member. */
async function assertEveryMemberReads(cluster: ProcessCluster, key: string, expected: string | undefined) {
  for (const id of cluster.ids) assert.equal(await readAt(cluster, id, key), expected, `${key} at ${id}`);
}

/**
 * Asserts that `work` fails as a refused connection does: the client retries UNAVAILABLE until its deadline,
 * so it ends with DEADLINE_EXCEEDED (or UNAVAILABLE).
 */
async function assertRefused(what: string, work: () => Promise<unknown>): Promise<void> {
  await assert.rejects(
    work,
    (error: unknown) =>
      error instanceof KvError && (error.code === 'DEADLINE_EXCEEDED' || error.code === 'UNAVAILABLE'),
    `${what} must be refused`,
  );
}

describe('a 3-process KV cluster with mutual TLS on the streaming transport', {
  timeout: 180_000,
  skip: hasOpenssl() ? false : 'openssl is not installed',
}, () => {
  let certs: TestCertificates;
  let cluster: ProcessCluster;
  let clientTls: KvTlsFiles;

  before(async () => {
    const dir = tempDir('tsraft-e2e-tls-');
    // SANs: IP 127.0.0.1 and DNS localhost; extended key usage serverAuth and clientAuth.
    certs = generateTestCertificates(dir, ['server', 'client']);
    const server = certs.nodes.get('server')!;
    const client = certs.nodes.get('client')!;
    clientTls = { caFile: client.caFile, certFile: client.certFile, keyFile: client.keyFile };
    cluster = await ProcessCluster.start({
      transport: 'streaming',
      tls: { caFile: server.caFile, certFile: server.certFile, keyFile: server.keyFile },
    });
  });
  after(async () => {
    await cluster?.close();
  });

  test('createKvClient with a client certificate writes and reads', async () => {
    const client = createKvClient({ endpoints: cluster.endpoints, timeoutMs: 10_000, tls: clientTls });
    try {
      await client.put('tls-greeting', 'hello over TLS');
      assert.equal(text.decode((await client.get('tls-greeting'))!), 'hello over TLS');
      assert.deepEqual(await client.compareAndSwap('tls-greeting', 'hello over TLS', 'swapped'), {
        succeeded: true,
        value: bytes('swapped'),
      });
    } finally {
      client.close();
    }
    // The same over Session streams.
    const streamed = createKvClient({
      endpoints: cluster.endpoints,
      timeoutMs: 10_000,
      tls: clientTls,
      calls: 'stream',
    });
    try {
      await streamed.put('tls-streamed', 'over a stream');
      assert.equal(text.decode((await streamed.get('tls-streamed'))!), 'over a stream');
    } finally {
      streamed.close();
    }
    await cluster.waitConverged();
    await assertEveryMemberReads(cluster, 'tls-greeting', 'swapped');
    await assertEveryMemberReads(cluster, 'tls-streamed', 'over a stream');
  });

  test('a client without a certificate, with a rogue one, or in plaintext is refused and writes nothing', async () => {
    const endpoints = cluster.endpoints;
    const refused: [string, KvTlsFiles | undefined][] = [
      ['no client certificate', { caFile: clientTls.caFile }],
      [
        'a certificate signed by another CA',
        { caFile: certs.rogue.caFile, certFile: certs.rogue.certFile, keyFile: certs.rogue.keyFile },
      ],
      ['plaintext', undefined],
    ];
    for (const [i, [what, tls]] of refused.entries()) {
      const client = createKvClient(
        tls === undefined ? { endpoints, timeoutMs: 2_000 } : { endpoints, timeoutMs: 2_000, tls },
      );
      try {
        await assertRefused(`a write with ${what}`, () => client.put(`refused-${i}`, 'must not exist'));
        await assertRefused(`a read with ${what}`, () => client.get('tls-greeting'));
        await assertRefused(`a status call with ${what}`, () => client.status(endpoints[0]!));
      } finally {
        client.close();
      }
    }
    await cluster.waitConverged();
    for (const i of refused.keys()) await assertEveryMemberReads(cluster, `refused-${i}`, undefined);
  });

  test('the tsraft CLI talks TLS with --tls-* flags or TSRAFT_TLS_* variables', async () => {
    const endpoints = cluster.endpoints.join(',');
    const flags = [
      '--endpoints',
      endpoints,
      '--timeout-ms',
      '10000',
      '--tls-ca',
      clientTls.caFile,
      '--tls-cert',
      clientTls.certFile!,
      '--tls-key',
      clientTls.keyFile!,
    ];
    await cluster.client().put('cli-key', 'from the library');
    const get = await runCli(['get', 'cli-key', ...flags]);
    assert.deepEqual(get, { code: 0, stdout: 'from the library\n', stderr: '' });

    const env = {
      TSRAFT_ENDPOINTS: endpoints,
      TSRAFT_TLS_CA: clientTls.caFile,
      TSRAFT_TLS_CERT: clientTls.certFile!,
      TSRAFT_TLS_KEY: clientTls.keyFile!,
    };
    const put = await runCli(['put', 'cli-env-key', 'from the CLI'], env);
    assert.deepEqual(put, { code: 0, stdout: 'OK\n', stderr: '' });
    assert.equal(text.decode((await cluster.client().get('cli-env-key'))!), 'from the CLI');

    const status = await runCli(['status', '--json', ...flags]);
    assert.equal(status.code, 0, status.stderr);
    const rows = JSON.parse(status.stdout) as { endpoint: string; memberId?: string }[];
    assert.deepEqual(rows.map((r) => r.memberId).sort(), [...cluster.ids].sort());

    // Without a client certificate the members refuse the connection: exit 1 with the error, no value.
    const noCert = await runCli([
      'get',
      'cli-key',
      '--endpoints',
      endpoints,
      '--timeout-ms',
      '1500',
      '--tls-ca',
      clientTls.caFile,
    ]);
    assert.equal(noCert.code, 1, noCert.stderr);
    assert.equal(noCert.stdout, '');
    assert.match(noCert.stderr, /^tsraft: [A-Z_]+: /);
  });
});

/** Whether the system resolves `localhost` to 127.0.0.1 (among its addresses), where the nodes listen. */
async function localhostHasIpv4Loopback(): Promise<boolean> {
  try {
    return (await lookup('localhost', { all: true })).some((a) => a.address === '127.0.0.1');
  } catch {
    return false;
  }
}

/**
 * A `--require` preload for the nodes that makes `localhost` resolve to ::1 first, then 127.0.0.1, in
 * `dns.promises.lookup` (what grpc-js's resolver calls), and says so on stderr (the node's log).
 */
const IPV6_FIRST_PRELOAD = `'use strict';
const dns = require('node:dns');
const lookup = dns.promises.lookup;
dns.promises.lookup = async function (host, options) {
  if (host === 'localhost') {
    process.stderr.write('test preload: localhost resolves to ::1, 127.0.0.1\\n');
    return [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }];
  }
  return lookup.call(this, host, options);
};
`;

describe('a plaintext cluster whose peers are named localhost', { timeout: 180_000 }, () => {
  const clusters: ProcessCluster[] = [];
  after(async () => {
    await Promise.all(clusters.splice(0).map((c) => c.close()));
  });

  /** Elects a leader, commits a write through a client, and reads it back at every member. */
  async function electCommitAndReadEverywhere(cluster: ProcessCluster, key: string): Promise<void> {
    await cluster.waitForLeader();
    for (const id of cluster.ids) {
      assert.match(cluster.log(id), /"peers":\{"n1":"localhost:\d+"/, `${id} dials its peers by name`);
    }
    await cluster.client().put(key, `value of ${key}`);
    await cluster.waitConverged();
    await assertEveryMemberReads(cluster, key, `value of ${key}`);
    for (const id of cluster.ids) {
      assert.equal(
        await readAt(cluster, id, key, ReadConsistency.STALE),
        `value of ${key}`,
        `${id} applied it`,
      );
    }
  }

  test('on the unary transport: elects a leader and commits a write read back at every member', async (t) => {
    if (!(await localhostHasIpv4Loopback())) {
      return t.skip('localhost does not resolve to 127.0.0.1 here, where the nodes listen');
    }
    const cluster = await ProcessCluster.start({ transport: 'unary', peerHost: 'localhost' });
    clusters.push(cluster);
    await electCommitAndReadEverywhere(cluster, 'dns-unary');
  });

  test('when localhost resolves to ::1 first, the nodes fall back to 127.0.0.1 (unary and streaming)', async () => {
    // Nothing listens on ::1: grpc-js's pick_first must try the next address for the cluster to form.
    const dir = tempDir('tsraft-e2e-dns-');
    const preload = path.join(dir, 'ipv6-first.cjs');
    writeFileSync(preload, IPV6_FIRST_PRELOAD);
    for (const transport of ['unary', 'streaming'] as const) {
      const cluster = await ProcessCluster.start({
        transport,
        peerHost: 'localhost',
        env: {
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(preload)}`.trim(),
        },
      });
      clusters.push(cluster);
      await electCommitAndReadEverywhere(cluster, `dns-ipv6-first-${transport}`);
      for (const id of cluster.ids) {
        assert.match(cluster.log(id), /test preload: localhost resolves to ::1, 127\.0\.0\.1/, id);
      }
      await cluster.close();
      clusters.splice(clusters.indexOf(cluster), 1);
    }
  });
});
