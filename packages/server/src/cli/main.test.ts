import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const children = new Set<ChildProcess>();
let root: string;

before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'tsraft-cli-'));
});
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  /** Resolves with the exit status and everything written, or rejects after `timeoutMs`. */
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** Runs the built `tsraft` with `args` (and extra `env`), killed if it outlives `timeoutMs`. */
function run(args: readonly string[], timeoutMs = 15_000, env: Readonly<Record<string, string>> = {}): Run {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: root,
    env: {
      ...process.env,
      TSRAFT_ENDPOINTS: '',
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
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
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
  return { child, done, stderr: () => stderr };
}

/** A server holding a port on 127.0.0.1 the system picked. */
async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

async function freePort(): Promise<number> {
  const { server, port } = await holdPort();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('tsraft', () => {
  test('an unknown command prints the usage on stderr and exits 2', async () => {
    const { code, stdout, stderr } = await run(['frobnicate']).done;
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /unknown command "frobnicate"/);
    assert.match(stderr, /Usage: tsraft <command>/);
  });

  test('help and --help print usage on stdout and exit 0', async () => {
    for (const args of [
      ['help'],
      ['--help'],
      ['serve', '--help'],
      ['help', 'cluster'],
      ['get', '--help'],
      ['member', '--help'],
      ['help', 'transfer-leader'],
    ]) {
      const { code, stdout } = await run(args).done;
      assert.equal(code, 0, args.join(' '));
      assert.match(stdout, /Usage: tsraft/, args.join(' '));
    }
  });

  test('serve with an unknown flag exits 2 naming the flag', async () => {
    const { code, stderr } = await run(['serve', '--id', 'n1', '--bogus-flag', 'x']).done;
    assert.equal(code, 2);
    assert.match(stderr, /^tsraft: unknown flag --bogus-flag/);
  });

  test('serve with its own id missing from the peers exits 2', async () => {
    const { code, stderr } = await run([
      'serve',
      '--id',
      'n4',
      '--listen',
      '127.0.0.1:7004',
      '--peers',
      'n1=127.0.0.1:7001,n2=127.0.0.1:7002',
      '--data-dir',
      path.join(root, 'n4'),
    ]).done;
    assert.equal(code, 2);
    assert.match(stderr, /^tsraft: --peers: this node's id "n4" is not among the peers/);
  });

  test('serve on a port already in use exits 2', async () => {
    const { server, port } = await holdPort();
    try {
      const { code, stderr } = await run([
        'serve',
        '--id',
        'n1',
        '--listen',
        `127.0.0.1:${port}`,
        '--peers',
        `n1=127.0.0.1:${port}`,
        '--data-dir',
        path.join(root, 'in-use'),
        '--log-level',
        'silent',
      ]).done;
      assert.equal(code, 2);
      assert.match(stderr, /^tsraft: .*in use/m);
      assert.ok(stderr.includes(String(port)), stderr);
    } finally {
      server.close();
    }
  });

  test('serve stops gracefully on SIGTERM and exits 0', async () => {
    const port = await freePort();
    const serve = run([
      'serve',
      '--id',
      'n1',
      '--listen',
      `127.0.0.1:${port}`,
      '--peers',
      `n1=127.0.0.1:${port}`,
      '--data-dir',
      path.join(root, 'graceful'),
    ]);
    const deadline = Date.now() + 10_000;
    while (!serve.stderr().includes('node started') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(serve.stderr().includes('node started'), serve.stderr());
    serve.child.kill('SIGTERM');
    const { code, stderr } = await serve.done;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /"msg":"stopped"/);
  });

  test('client commands refuse wrong arguments with exit 2', async () => {
    for (const [args, message] of [
      [['get'], /get takes KEY, got 0 arguments/],
      [['put', 'k'], /put takes KEY VALUE, got 1 argument/],
      [['cas', '--absent', 'k', 'e', 'v'], /cas takes KEY VALUE, got 3 arguments/],
      [['get', 'k', '--consistency', 'eventual'], /--consistency: "eventual" is not one of/],
      [['get', 'k', '--endpoints', 'nope'], /--endpoints: "nope" is not a valid host:port/],
      [['status', '--timeout-ms', '0'], /--timeout-ms: "0" is not a positive integer/],
    ] as const) {
      const { code, stderr } = await run(args).done;
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, message);
    }
  });

  test('membership commands refuse wrong arguments with exit 2', async () => {
    for (const [args, message] of [
      [['member'], /member needs a subcommand: list, add, promote, remove/],
      [['member', 'grow'], /member: unknown subcommand "grow"/],
      [['member', 'list', 'extra'], /member list takes no arguments, got 1 argument/],
      [['member', 'add', 'n4'], /member add takes ID ADDRESS, got 1 argument/],
      [['member', 'add', 'n4', 'nowhere'], /ADDRESS: "nowhere" is not a valid host:port/],
      [['member', 'add', 'n=4', '127.0.0.1:7004'], /ID: "n=4" is not a valid node id/],
      [['member', 'promote', 'n4', '--max-lag', 'lots'], /--max-lag: "lots" is not an integer/],
      [
        ['member', 'remove', 'n4', '--expect-config', 'abc'],
        /--expect-config: "abc" is not a configuration id/,
      ],
      [['member', 'remove', 'n4', '--learner'], /unknown flag --learner/],
      [['member', 'replace', 'n3'], /member replace takes OLD NEW, got 1 argument/],
      [['member', 'replace', 'n3', 'n3'], /OLD and NEW are both n3/],
      [['transfer-leader'], /transfer-leader takes ID, got 0 arguments/],
    ] as const) {
      const { code, stdout, stderr } = await run(args).done;
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.equal(stdout, '');
      assert.match(stderr, message);
    }
  });

  test('membership commands against no server fail with the error code and exit 1', async () => {
    const port = await freePort();
    const endpoint = ['--endpoints', `127.0.0.1:${port}`, '--timeout-ms', '1000'];
    for (const args of [
      ['member', 'list'],
      ['member', 'remove', 'n2'],
    ]) {
      const { code, stdout, stderr } = await run([...args, ...endpoint]).done;
      assert.equal(code, 1, args.join(' '));
      assert.equal(stdout, '');
      assert.match(stderr, /^tsraft: [A-Z_]+: /);
    }
  });

  test('serve --join of a cluster that is not there keeps trying until stopped', async () => {
    const [port, nowhere] = [await freePort(), await freePort()];
    const serve = run([
      'serve',
      '--id',
      'n4',
      '--listen',
      `127.0.0.1:${port}`,
      '--join',
      `127.0.0.1:${nowhere}`,
      '--data-dir',
      path.join(root, 'join-nowhere'),
    ]);
    const deadline = Date.now() + 10_000;
    while (!serve.stderr().includes('joining the cluster failed; retrying') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(serve.stderr().includes('joining the cluster failed; retrying'), serve.stderr());
    serve.child.kill('SIGTERM');
    const { code, stderr } = await serve.done;
    assert.equal(code, 0, stderr);
  });

  test('client commands document the TLS flags', async () => {
    for (const command of ['put', 'get', 'del', 'cas', 'status', 'member', 'transfer-leader']) {
      const { code, stdout } = await run([command, '--help']).done;
      assert.equal(code, 0, command);
      for (const flag of ['--tls-ca FILE', '--tls-cert FILE', '--tls-key FILE', 'TSRAFT_TLS_CA']) {
        assert.ok(stdout.includes(flag), `${command} --help: ${flag}`);
      }
    }
  });

  test('client commands refuse incomplete or unreadable TLS settings with exit 2', async () => {
    // Readability is checked here; the contents only when connecting.
    const pem = path.join(root, 'some.pem');
    writeFileSync(pem, 'not checked here\n');
    for (const [args, env, message] of [
      [
        ['get', 'k', '--tls-cert', pem],
        {},
        /--tls-cert: a client certificate needs both --tls-cert and --tls-key/,
      ],
      [['get', 'k', '--tls-cert', pem, '--tls-key', pem], {}, /TLS needs --tls-ca/],
      [['status', '--tls-ca', 'missing.pem'], {}, /--tls-ca: cannot read ".*missing\.pem": ENOENT/],
      [['put', 'k', 'v'], { TSRAFT_TLS_CA: 'missing.pem' }, /TSRAFT_TLS_CA: cannot read ".*missing\.pem"/],
      [
        ['del', 'k', '--tls-ca', pem],
        { TSRAFT_TLS_KEY: pem },
        /TSRAFT_TLS_KEY: a client certificate needs both/,
      ],
    ] as const) {
      const { code, stderr } = await run(args, 15_000, env).done;
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, message);
    }
  });

  test('a client command against no server fails with the error code and exit 1', async () => {
    const port = await freePort();
    const { code, stdout, stderr } = await run([
      'get',
      'k',
      '--endpoints',
      `127.0.0.1:${port}`,
      '--timeout-ms',
      '1000',
    ]).done;
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /^tsraft: [A-Z_]+: /);
  });
});
