import * as assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from './config-error.js';
import { resolveServeConfig } from './resolve-serve-config.js';

let root: string;
before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'tsraft-config-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const PEERS = 'n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003';

/** The required flags for node n1, with `overrides` replacing or adding flags (undefined removes one). */
function flags(overrides: Record<string, string | undefined> = {}): string[] {
  const all: Record<string, string | undefined> = {
    id: 'n1',
    listen: '127.0.0.1:7001',
    peers: PEERS,
    'data-dir': path.join(root, 'data', 'n1'),
    ...overrides,
  };
  return Object.entries(all).flatMap(([k, v]) => (v === undefined ? [] : [`--${k}`, v]));
}

function writeFile(name: string, text: string): string {
  const file = path.join(root, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** Asserts a ConfigError whose message contains every one of `parts`. */
async function rejectsWith(
  argv: readonly string[],
  parts: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  await assert.rejects(resolveServeConfig(argv, env, root), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    for (const part of parts) assert.ok(error.message.includes(part), `"${error.message}" lacks "${part}"`);
    return true;
  });
}

describe('resolveServeConfig', () => {
  test('fills in the defaults and creates the data directory', async () => {
    const dataDir = path.join(root, 'fresh', 'a', 'b');
    const config = await resolveServeConfig(flags({ 'data-dir': dataDir }), {}, root);
    assert.deepEqual(config, {
      id: 'n1',
      listen: '127.0.0.1:7001',
      peers: new Map([
        ['n1', '127.0.0.1:7001'],
        ['n2', '127.0.0.1:7002'],
        ['n3', '127.0.0.1:7003'],
      ]),
      dataDir,
      transport: 'streaming',
      batching: true,
      clusterId: 'tsraft',
      metricsListen: undefined,
      logLevel: 'info',
      tickIntervalMs: 100,
      electionTicks: 10,
      heartbeatTicks: 1,
      snapshotIntervalEntries: 10_000,
      snapshotIntervalBytes: 64 * 1024 * 1024,
      maxInflightRequests: 1_024,
      maxStreamInflightRequests: 512,
      requestTimeoutMs: 5_000,
      tls: undefined,
      join: undefined,
      advertise: undefined,
      learner: false,
      promoteWithin: 1_000,
    });
  });

  describe('joining a running cluster', () => {
    const joining = (overrides: Record<string, string | undefined> = {}) =>
      flags({ id: 'n4', listen: '127.0.0.1:7004', peers: undefined, join: '127.0.0.1:7001', ...overrides });

    test('--join instead of --peers, with --advertise, --learner and --promote-within', async () => {
      const config = await resolveServeConfig(
        [
          ...joining({ join: '127.0.0.1:7001, node-2.example:7002', advertise: 'node-4.example:7004' }),
          '--learner',
          '--promote-within=50',
        ],
        {},
        root,
      );
      assert.deepEqual(config.join, ['127.0.0.1:7001', 'node-2.example:7002']);
      assert.equal(config.peers.size, 0);
      assert.equal(config.advertise, 'node-4.example:7004');
      assert.equal(config.learner, true);
      assert.equal(config.promoteWithin, 50);
      const defaults = await resolveServeConfig(joining(), {}, root);
      assert.deepEqual(
        [defaults.advertise, defaults.learner, defaults.promoteWithin],
        [undefined, false, 1_000],
      );
    });

    test('from the environment and from a config file (a list, a boolean)', async () => {
      const fromEnv = await resolveServeConfig(
        joining({ join: undefined }),
        { TSRAFT_JOIN: '127.0.0.1:7002', TSRAFT_LEARNER: 'true' },
        root,
      );
      assert.deepEqual(fromEnv.join, ['127.0.0.1:7002']);
      assert.equal(fromEnv.learner, true);
      const file = writeFile(
        'join.yaml',
        `id: n4\nlisten: 127.0.0.1:7004\ndataDir: d4\njoin: [127.0.0.1:7001, 127.0.0.1:7003]\nlearner: false\n`,
      );
      const fromFile = await resolveServeConfig(['--config', file], {}, root);
      assert.deepEqual(fromFile.join, ['127.0.0.1:7001', '127.0.0.1:7003']);
      assert.equal(fromFile.learner, false);
    });

    test('refuses --peers with --join, join flags without --join, and an address others cannot dial', async () => {
      await rejectsWith(joining({ peers: PEERS }), ['--peers and --join', 'not both']);
      await rejectsWith([...flags(), '--learner'], ['--learner', 'only applies with --join']);
      await rejectsWith(flags({ 'promote-within': '10' }), ['--promote-within', 'only applies with --join']);
      await rejectsWith(joining({ listen: '0.0.0.0:7004' }), ['--listen 0.0.0.0:7004', '--advertise']);
      await rejectsWith(joining({ join: '127.0.0.1' }), ['--join', '"127.0.0.1"']);
      await rejectsWith(joining(), ['TSRAFT_LEARNER', '"maybe"'], { TSRAFT_LEARNER: 'maybe' });
      const ok = await resolveServeConfig(
        joining({ listen: '0.0.0.0:7004', advertise: '10.0.0.4:7004' }),
        {},
        root,
      );
      assert.equal(ok.advertise, '10.0.0.4:7004');
    });

    test('a missing --peers names --join as the alternative', async () => {
      await rejectsWith(flags({ peers: undefined }), [
        'missing required flag --peers',
        'gives --join instead',
      ]);
    });
  });

  test('takes every flag, as --flag value and as --flag=value, and resolves paths against cwd', async () => {
    writeFile('tls/cert.pem', 'c');
    writeFile('tls/key.pem', 'k');
    writeFile('tls/ca.pem', 'a');
    const config = await resolveServeConfig(
      [
        '--id=n2',
        '--listen=0.0.0.0:7002',
        `--peers=${PEERS}`,
        '--data-dir',
        'rel/n2',
        '--transport=unary',
        '--cluster-id',
        'prod',
        '--metrics-listen=127.0.0.1:9102',
        '--log-level',
        'debug',
        '--tick-interval-ms=50',
        '--election-ticks',
        '20',
        '--heartbeat-ticks=2',
        '--snapshot-interval-entries=500',
        '--max-inflight-requests',
        '64',
        '--max-stream-inflight-requests=32',
        '--request-timeout-ms=1500',
        '--tls-cert=tls/cert.pem',
        '--tls-key',
        'tls/key.pem',
        '--tls-ca=tls/ca.pem',
      ],
      {},
      root,
    );
    assert.equal(config.id, 'n2');
    assert.equal(config.listen, '0.0.0.0:7002');
    assert.equal(config.dataDir, path.join(root, 'rel', 'n2'));
    assert.equal(config.transport, 'unary');
    assert.equal(config.clusterId, 'prod');
    assert.equal(config.metricsListen, '127.0.0.1:9102');
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.tickIntervalMs, 50);
    assert.equal(config.electionTicks, 20);
    assert.equal(config.heartbeatTicks, 2);
    assert.equal(config.snapshotIntervalEntries, 500);
    assert.equal(config.maxInflightRequests, 64);
    assert.equal(config.maxStreamInflightRequests, 32);
    assert.equal(config.requestTimeoutMs, 1500);
    assert.deepEqual(config.tls, {
      certFile: path.join(root, 'tls/cert.pem'),
      keyFile: path.join(root, 'tls/key.pem'),
      caFile: path.join(root, 'tls/ca.pem'),
    });
  });

  test('takes every option from TSRAFT_* variables, ignoring empty ones', async () => {
    const config = await resolveServeConfig(
      [],
      {
        TSRAFT_ID: 'n3',
        TSRAFT_LISTEN: '127.0.0.1:7003',
        TSRAFT_PEERS: PEERS,
        TSRAFT_DATA_DIR: 'env/n3',
        TSRAFT_TRANSPORT: 'unary',
        TSRAFT_CLUSTER_ID: 'from-env',
        TSRAFT_METRICS_LISTEN: '',
        TSRAFT_LOG_LEVEL: 'warn',
        TSRAFT_TICK_INTERVAL_MS: '25',
        TSRAFT_ELECTION_TICKS: '8',
        TSRAFT_HEARTBEAT_TICKS: '3',
        TSRAFT_SNAPSHOT_INTERVAL_ENTRIES: '7',
        TSRAFT_MAX_INFLIGHT_REQUESTS: '9',
        TSRAFT_MAX_STREAM_INFLIGHT_REQUESTS: '5',
        TSRAFT_REQUEST_TIMEOUT_MS: '11',
      },
      root,
    );
    assert.equal(config.id, 'n3');
    assert.equal(config.dataDir, path.join(root, 'env', 'n3'));
    assert.equal(config.transport, 'unary');
    assert.equal(config.clusterId, 'from-env');
    assert.equal(config.metricsListen, undefined);
    assert.equal(config.logLevel, 'warn');
    assert.deepEqual(
      [
        config.tickIntervalMs,
        config.electionTicks,
        config.heartbeatTicks,
        config.snapshotIntervalEntries,
        config.maxInflightRequests,
        config.maxStreamInflightRequests,
        config.requestTimeoutMs,
      ],
      [25, 8, 3, 7, 9, 5, 11],
    );
  });

  test('--batching on|off sets leader batching, anything else is refused', async () => {
    assert.equal((await resolveServeConfig(flags({ batching: 'off' }), {}, root)).batching, false);
    assert.equal((await resolveServeConfig(flags({ batching: 'on' }), {}, root)).batching, true);
    await assert.rejects(
      resolveServeConfig(flags({ batching: 'maybe' }), {}, root),
      /batching.*maybe|maybe.*on, off/,
    );
  });

  test('accepts DNS names without resolving them, and IPv6 in brackets', async () => {
    const config = await resolveServeConfig(
      flags({
        listen: '[::]:7001',
        peers: 'n1=node-1.tsraft.svc.cluster.local:7001,n2=no-such-host.invalid:7002,n3=[::1]:7003',
      }),
      {},
      root,
    );
    assert.equal(config.peers.get('n2'), 'no-such-host.invalid:7002');
    assert.equal(config.peers.get('n3'), '[::1]:7003');
  });

  describe('precedence: flags over env over file over defaults', () => {
    const env = { TSRAFT_CLUSTER_ID: 'env-cluster', TSRAFT_LOG_LEVEL: 'warn', TSRAFT_TICK_INTERVAL_MS: '30' };

    test('with a YAML file', async () => {
      const file = writeFile(
        'precedence/serve.yaml',
        [
          '# every level sets something the next one overrides',
          'id: n1',
          'listen: 127.0.0.1:7001',
          'peers:',
          '  n1: 127.0.0.1:7001',
          '  n2: 127.0.0.1:7002',
          'dataDir: yaml-data',
          'clusterId: file-cluster',
          'logLevel: error',
          'tickIntervalMs: 40',
          'electionTicks: 12',
          'metricsListen: ~',
        ].join('\n'),
      );
      const config = await resolveServeConfig(['--config', file, '--log-level', 'debug'], env, root);
      assert.equal(config.logLevel, 'debug', 'flag over env and file');
      assert.equal(config.clusterId, 'env-cluster', 'env over file');
      assert.equal(config.tickIntervalMs, 30, 'env over file');
      assert.equal(config.electionTicks, 12, 'file over default');
      assert.equal(config.heartbeatTicks, 1, 'default');
      assert.equal(config.metricsListen, undefined, 'a null key is unset');
      assert.deepEqual([...config.peers.keys()], ['n1', 'n2']);
      // Paths written in the file are relative to the file.
      assert.equal(config.dataDir, path.join(root, 'precedence', 'yaml-data'));
    });

    test('with a JSON file, peers in the flag form and nested tls', async () => {
      writeFile('json/ca.pem', 'a');
      writeFile('json/cert.pem', 'c');
      writeFile('json/key.pem', 'k');
      const file = writeFile(
        'json/serve.json',
        JSON.stringify({
          id: 'n2',
          listen: '127.0.0.1:7002',
          peers: PEERS,
          dataDir: path.join(root, 'json-data'),
          transport: 'unary',
          clusterId: 'file-cluster',
          electionTicks: '15',
          tls: { certFile: 'cert.pem', keyFile: 'key.pem', caFile: 'ca.pem' },
        }),
      );
      const config = await resolveServeConfig(
        ['--config', 'json/serve.json', '--transport', 'streaming'],
        { ...env, TSRAFT_ID: 'n3' },
        root,
      );
      assert.equal(config.transport, 'streaming', 'flag over file');
      assert.equal(config.id, 'n3', 'env over file');
      assert.equal(config.clusterId, 'env-cluster');
      assert.equal(config.electionTicks, 15);
      assert.equal(config.dataDir, path.join(root, 'json-data'));
      assert.deepEqual(config.tls, {
        certFile: path.join(root, 'json/cert.pem'),
        keyFile: path.join(root, 'json/key.pem'),
        caFile: path.join(root, 'json/ca.pem'),
      });
      assert.ok(file.endsWith('.json'));
    });

    test('TSRAFT_CONFIG names the file when --config does not', async () => {
      const file = writeFile(
        'env-config.yml',
        `id: n1\nlisten: 127.0.0.1:7001\npeers: "${PEERS}"\ndataDir: d\n`,
      );
      const config = await resolveServeConfig([], { TSRAFT_CONFIG: file }, root);
      assert.equal(config.peers.size, 3);
    });
  });

  describe('refuses', () => {
    test('an unknown flag, naming it', async () => {
      await rejectsWith([...flags(), '--electon-ticks', '5'], ['unknown flag --electon-ticks']);
    });

    test('a flag without its value', async () => {
      await rejectsWith([...flags(), '--election-ticks'], ['--election-ticks needs a value']);
      await rejectsWith([...flags(), '--election-ticks', '-3'], ['--election-ticks: "-3" looks like a flag']);
    });

    test('a stray argument', async () => {
      await rejectsWith([...flags(), 'extra'], ['unexpected argument "extra"']);
    });

    for (const flag of ['id', 'listen', 'peers', 'data-dir']) {
      test(`a missing --${flag}`, async () => {
        await rejectsWith(flags({ [flag]: undefined }), [
          `missing required flag --${flag}`,
          `TSRAFT_${flag.replace('-', '_').toUpperCase()}`,
        ]);
      });
    }

    test('several missing flags at once', async () => {
      await rejectsWith([], ['missing required flags --id, --listen, --peers, --data-dir']);
    });

    for (const [flag, value] of [
      ['listen', '127.0.0.1'],
      ['listen', '127.0.0.1:99999'],
      ['listen', 'host name:7001'],
      ['metrics-listen', ':9100'],
      ['metrics-listen', 'localhost:http'],
    ] as const) {
      test(`a malformed --${flag} ${value}`, async () => {
        await rejectsWith(flags({ [flag]: value }), [`--${flag}`, `"${value}"`, 'host:port']);
      });
    }

    test('a malformed peer address, naming the peer', async () => {
      await rejectsWith(flags({ peers: 'n1=127.0.0.1:7001,n2=127.0.0.1' }), ['--peers (n2)', '"127.0.0.1"']);
      await rejectsWith(flags({ peers: 'n1=127.0.0.1:7001,n2=127.0.0.1:0' }), ['--peers (n2)']);
      await rejectsWith(flags({ peers: 'n1=127.0.0.1:7001,n2' }), ['--peers', '"n2"', 'id=host:port']);
    });

    test('a duplicate id in peers', async () => {
      await rejectsWith(flags({ peers: `${PEERS},n2=127.0.0.1:7004` }), [
        '--peers',
        'node id "n2" appears twice',
      ]);
    });

    test("peers that do not include this node's id", async () => {
      await rejectsWith(flags({ id: 'n4' }), ['--peers', '"n4" is not among the peers (n1, n2, n3)']);
    });

    test('a malformed id', async () => {
      await rejectsWith(flags({ id: 'n 1' }), ['--id', '"n 1"']);
    });

    for (const flag of [
      'tick-interval-ms',
      'election-ticks',
      'heartbeat-ticks',
      'snapshot-interval-entries',
      'snapshot-interval-bytes',
      'max-inflight-requests',
      'max-stream-inflight-requests',
      'request-timeout-ms',
    ]) {
      for (const value of ['0', '-3', 'ten', '1.5', '99999999999999999999']) {
        test(`--${flag}=${value}`, async () => {
          await rejectsWith(
            [...flags(), `--${flag}=${value}`],
            [`--${flag}`, value, 'not a positive integer'],
          );
        });
      }
    }

    test('a bad number from the environment, naming the variable', async () => {
      await rejectsWith(flags(), ['TSRAFT_ELECTION_TICKS', '"x"'], { TSRAFT_ELECTION_TICKS: 'x' });
    });

    test('heartbeat-ticks not below election-ticks', async () => {
      await rejectsWith(flags({ 'election-ticks': '5', 'heartbeat-ticks': '5' }), [
        '--heartbeat-ticks',
        'heartbeat-ticks (5) must be less than election-ticks (5)',
      ]);
      await rejectsWith(flags({ 'election-ticks': '1' }), ['--election-ticks', '(1) must be less than']);
    });

    test('an unknown transport', async () => {
      await rejectsWith(flags({ transport: 'carrier-pigeon' }), [
        '--transport',
        '"carrier-pigeon"',
        'streaming, unary',
      ]);
    });

    test('an unknown log level', async () => {
      await rejectsWith(flags({ 'log-level': 'verbose' }), ['--log-level', '"verbose"', 'info']);
    });

    test('a data directory that cannot be created', async () => {
      const file = writeFile('not-a-dir', 'x');
      await rejectsWith(flags({ 'data-dir': path.join(file, 'n1') }), ['--data-dir', 'cannot create']);
      await rejectsWith(flags({ 'data-dir': file }), ['--data-dir', 'a file is in the way']);
    });

    test('a data directory that is not writable', async (t) => {
      if (process.getuid?.() === 0) {
        t.skip('root may write anywhere');
        return;
      }
      const dir = path.join(root, 'read-only');
      mkdirSync(dir);
      chmodSync(dir, 0o500);
      try {
        await rejectsWith(flags({ 'data-dir': dir }), ['--data-dir', 'not writable']);
      } finally {
        chmodSync(dir, 0o700);
      }
    });

    test('only some of the TLS files, or one that is missing', async () => {
      await rejectsWith(flags({ 'tls-cert': 'c.pem' }), [
        '--tls-cert',
        'all of --tls-cert, --tls-key and --tls-ca',
      ]);
      await rejectsWith(flags({ 'tls-cert': 'nope.pem', 'tls-key': 'nope.pem', 'tls-ca': 'nope.pem' }), [
        '--tls-cert',
        'cannot read',
        'nope.pem',
      ]);
    });

    test('a config file that does not exist', async () => {
      await rejectsWith(['--config', 'missing.yaml'], ['--config', 'missing.yaml', 'no such file']);
    });

    test('a config file that does not parse', async () => {
      const yaml = writeFile('bad.yaml', 'id: n1\n  listen: [unclosed\n');
      await rejectsWith(['--config', yaml], ['--config', 'bad.yaml', 'is not valid YAML']);
      const json = writeFile('bad.json', '{"id": "n1",}');
      await rejectsWith(['--config', json], ['--config', 'bad.json', 'is not valid JSON']);
      const list = writeFile('list.yaml', '- id\n- n1\n');
      await rejectsWith(['--config', list], ['list.yaml', 'must hold a mapping']);
    });

    test('a config file of another format', async () => {
      const toml = writeFile('serve.toml', 'id = "n1"');
      await rejectsWith(['--config', toml], ['--config', 'serve.toml', '.yaml, .yml or .json']);
    });

    test('an unknown key in a config file, naming the file and key', async () => {
      const file = writeFile('unknown-key.yaml', 'id: n1\ndata_dir: x\n');
      await rejectsWith(['--config', file], ['unknown-key.yaml', 'unknown key "data_dir"']);
    });

    test('a bad value in a config file, naming the key and file', async () => {
      const file = writeFile(
        'bad-value.yaml',
        `id: n1\nlisten: 127.0.0.1:7001\npeers: {n1: 127.0.0.1:7001}\ndataDir: d\nelectionTicks: -1\n`,
      );
      await rejectsWith(['--config', file], ['electionTicks in', 'bad-value.yaml', 'not a positive integer']);
    });

    test('a duplicate peer id in a YAML file', async () => {
      const file = writeFile('dup.yaml', 'peers:\n  n1: 127.0.0.1:7001\n  n1: 127.0.0.1:7002\n');
      await rejectsWith(['--config', file], ['dup.yaml', 'is not valid YAML']);
    });
  });
});
