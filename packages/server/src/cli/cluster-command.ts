import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKvClient } from '@tsraft/kv-client';
import { ConfigError } from '../config/config-error.js';
import { parseFlags } from '../config/parse-flags.js';
import { type CliIo, type Command, FAILURE_EXIT_CODE, REMOVED_EXIT_CODE } from './cli-io.js';
import { DEFAULT_ENDPOINTS } from './usage.js';

const HOST = '127.0.0.1';
/** How long the nodes get to answer `status` and elect a leader. */
const READY_TIMEOUT_MS = 30_000;
/** How long a node gets to stop after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;
/** Metrics ports sit this far above the node ports. */
const METRICS_PORT_OFFSET = 100;
const MAIN_JS = fileURLToPath(new URL('./main.js', import.meta.url));

/** One child `tsraft serve` of a local cluster. */
interface ClusterNode {
  readonly id: string;
  readonly address: string;
  readonly metricsAddress: string;
  readonly logFile: string;
  child?: ChildProcess;
  /** Set when the child has exited: its exit code, or the signal that ended it. */
  exit?: string;
  exited?: Promise<void>;
}

/**
 * `tsraft cluster`: runs N `tsraft serve` children on consecutive local ports, waits until they answer and
 * have a leader, and keeps them up until SIGINT/SIGTERM, which stops each gracefully. The children run in
 * their own process group so that a terminal's Ctrl-C reaches only this process, which then stops them in
 * order instead of racing their own shutdown.
 */
export const clusterCommand: Command = async (argv, io) => {
  const { values, positionals } = parseFlags(
    argv,
    {
      dir: { type: 'string' },
      'base-port': { type: 'string' },
      nodes: { type: 'string' },
      transport: { type: 'string' },
    },
    'cluster',
  );
  if (positionals.length > 0) throw new ConfigError(`cluster takes no arguments`);
  const count = positiveInteger(values.nodes, '--nodes', 3);
  if (count > 99) throw new ConfigError(`--nodes: ${count} is more than 99`);
  const basePort = positiveInteger(values['base-port'], '--base-port', 7001);
  if (basePort + METRICS_PORT_OFFSET + count - 1 > 65_535) {
    throw new ConfigError(
      `--base-port: ${basePort} leaves no room for ${count} nodes and their metrics ports`,
    );
  }
  const transport = (values.transport as string | undefined) ?? 'streaming';
  if (transport !== 'streaming' && transport !== 'unary') {
    throw new ConfigError(`--transport: "${transport}" is not one of streaming, unary`);
  }
  const dir = path.resolve(io.cwd, (values.dir as string | undefined) ?? '.tsraft-cluster');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new ConfigError(`--dir: cannot create "${dir}": ${(error as Error).message}`);
  }
  io.out(`cluster directory: ${dir}\n`);

  const nodes: ClusterNode[] = Array.from({ length: count }, (_, i) => ({
    id: `n${i + 1}`,
    address: `${HOST}:${basePort + i}`,
    metricsAddress: `${HOST}:${basePort + METRICS_PORT_OFFSET + i}`,
    logFile: path.join(dir, `n${i + 1}.log`),
  }));
  for (const node of nodes) {
    await assertPortFree(node.address, `${node.id}'s address`);
    await assertPortFree(node.metricsAddress, `${node.id}'s metrics address`);
  }

  const peers = nodes.map((n) => `${n.id}=${n.address}`).join(',');
  let stopping = false;
  let ready = false;
  let onChildExit: () => void = () => {};
  for (const node of nodes) {
    const log = openSync(node.logFile, 'a');
    writeSync(log, `\n--- tsraft cluster: starting ${node.id} at ${new Date().toISOString()} ---\n`);
    const child = spawn(
      process.execPath,
      [
        MAIN_JS,
        'serve',
        '--id',
        node.id,
        '--listen',
        node.address,
        '--peers',
        peers,
        '--data-dir',
        path.join(dir, node.id),
        '--metrics-listen',
        node.metricsAddress,
        '--transport',
        transport,
      ],
      { stdio: ['ignore', log, log], detached: true, env: process.env },
    );
    closeSync(log);
    node.child = child;
    node.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        node.exit = signal === null ? `exit status ${code}` : `killed by ${signal}`;
        if (!stopping && ready) {
          const alive = nodes.filter((n) => n.exit === undefined).length;
          const what =
            code === REMOVED_EXIT_CODE
              ? 'was removed from the cluster (exit status 3)'
              : `exited unexpectedly (${node.exit})`;
          io.err(
            `tsraft: ${node.id} ${what}; see ${node.logFile}. ${alive} of ${count} nodes still running.\n`,
          );
        }
        resolve();
        onChildExit();
      });
    });
  }

  // Stop signals from the first moment: a Ctrl-C during startup must not orphan the children.
  let signalled: (signal: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => {
    signalled = resolve;
  });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, () => signalled(signal));

  const outcome = await Promise.race([waitUntilReady(nodes), stopRequested.then((signal) => ({ signal }))]);
  if (!('leader' in outcome)) {
    if ('signal' in outcome) {
      io.err(`tsraft: ${outcome.signal} during startup: stopping the cluster\n`);
    } else {
      io.err(`tsraft: the cluster did not come up: ${outcome.reason}\n`);
      for (const node of nodes) io.err(`\n==> ${node.logFile} (last lines) <==\n${tail(node.logFile, 15)}\n`);
    }
    stopping = true;
    await stopAll(nodes, io);
    return 'signal' in outcome ? 0 : FAILURE_EXIT_CODE;
  }
  ready = true;
  io.out(instructions(dir, nodes, outcome.leader));

  const allDead = new Promise<void>((resolve) => {
    onChildExit = () => {
      if (nodes.every((n) => n.exit !== undefined)) resolve();
    };
  });
  const ending = await Promise.race([stopRequested, allDead.then(() => undefined)]);
  stopping = true;
  if (ending === undefined) {
    io.err('tsraft: every node has exited; stopping\n');
    return FAILURE_EXIT_CODE;
  }
  io.err(`tsraft: ${ending}: stopping the cluster\n`);
  await stopAll(nodes, io);
  io.err('tsraft: cluster stopped\n');
  return 0;
};

function positiveInteger(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new ConfigError(`${flag}: "${String(value)}" is not a positive integer`);
  return n;
}

/** Binds `address` for a moment; a port in use is a {@link ConfigError} naming it. */
async function assertPortFree(address: string, what: string): Promise<void> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new ConfigError(
          error.code === 'EADDRINUSE'
            ? `port ${port} (${what}, ${address}) is already in use; stop what holds it, or choose another --base-port`
            : `cannot bind port ${port} (${what}, ${address}): ${error.message}`,
        ),
      );
    });
    server.listen({ host: HOST, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/**
 * Polls every node's status until all answer and one of them names a leader, a child exits, or
 * {@link READY_TIMEOUT_MS} passes.
 * @returns the leader's id, or why the cluster is not up.
 */
async function waitUntilReady(
  nodes: readonly ClusterNode[],
): Promise<{ readonly leader: string } | { readonly reason: string }> {
  const client = createKvClient({ endpoints: nodes.map((n) => n.address), timeoutMs: 1_000 });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no node answered yet';
  try {
    while (Date.now() < deadline) {
      const dead = nodes.find((n) => n.exit !== undefined);
      if (dead !== undefined) return { reason: `${dead.id} exited during startup (${dead.exit})` };
      const answers = await Promise.all(
        nodes.map((n) =>
          client.status(n.address).then(
            (status) => ({ node: n, status }),
            (error: unknown) => ({ node: n, error }),
          ),
        ),
      );
      const silent = answers.filter((a) => 'error' in a).map((a) => a.node.id);
      const leader = answers
        .map((a) => ('status' in a ? a.status.leaderId : undefined))
        .find((l) => l !== undefined);
      if (silent.length === 0 && leader !== undefined) return { leader };
      last = silent.length > 0 ? `no answer from ${silent.join(', ')}` : 'no leader elected';
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return { reason: `not ready after ${READY_TIMEOUT_MS / 1000} s: ${last}` };
  } finally {
    client.close();
  }
}

/** SIGTERM to every running child, then SIGKILL to any still running after {@link STOP_TIMEOUT_MS}. */
async function stopAll(nodes: readonly ClusterNode[], io: CliIo): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      if (node.child === undefined || node.exit !== undefined) return;
      node.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        io.err(`tsraft: ${node.id} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it\n`);
        node.child?.kill('SIGKILL');
      }, STOP_TIMEOUT_MS);
      await node.exited;
      clearTimeout(timer);
    }),
  );
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(cannot read: ${(error as Error).message})`;
  }
}

function instructions(dir: string, nodes: readonly ClusterNode[], leader: string): string {
  const endpoints = nodes.map((n) => n.address).join(',');
  const flag = endpoints === DEFAULT_ENDPOINTS ? '' : ` --endpoints ${endpoints}`;
  const members = nodes
    .map((n) => `  ${n.id}  ${n.address}  metrics http://${n.metricsAddress}/metrics  log ${n.logFile}`)
    .join('\n');
  const examples = (prefix: string): string =>
    [`put greeting hello`, `get greeting`, `status`].map((c) => `  ${prefix} ${c}${flag}`).join('\n');
  return `
tsraft cluster is up: ${nodes.length} nodes, leader ${leader}, data in ${dir}
${members}

Try it from the repository root:
${examples('node packages/server/dist/cli/main.js')}
or
${examples('npx -y pnpm@10.34.9 tsraft')}

Ctrl-C stops every node; running the same command again resumes this cluster and its data.
`;
}
