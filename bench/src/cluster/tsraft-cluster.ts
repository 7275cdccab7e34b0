import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKvClient } from '@tsraft/kv-client';
import type { BenchCluster } from './bench-cluster.js';
import {
  freePorts,
  logTail,
  makeTempDir,
  removeTempDir,
  spawnTracked,
  type TrackedChild,
} from './processes.js';

/** The built `tsraft` command of the `@tsraft/server` this package depends on. */
export const TSRAFT_CLI = fileURLToPath(new URL('./cli/main.js', import.meta.resolve('@tsraft/server')));

export type TsraftTransport = 'unary' | 'streaming';

export interface TsraftClusterOptions {
  readonly transport: TsraftTransport;
  /** Leader batching (several proposals appended and replicated per Ready); off needs `--batching`. */
  readonly batching: boolean;
  /** Bound of the wait for a leader. */
  readonly leaderTimeoutMs?: number;
}

let batchingFlag: boolean | undefined;

/** Whether this build of `tsraft serve` has the `--batching` flag. */
export function serveHasBatchingFlag(): boolean {
  if (batchingFlag === undefined) {
    try {
      const help = execFileSync(process.execPath, [TSRAFT_CLI, 'serve', '--help'], { encoding: 'utf8' });
      batchingFlag = help.includes('--batching');
    } catch (error) {
      const output = (error as { stdout?: unknown }).stdout;
      batchingFlag = typeof output === 'string' && output.includes('--batching');
    }
  }
  return batchingFlag;
}

/**
 * Starts 3 `tsraft serve` processes on loopback (durable storage in a temp directory, default timing: 100 ms
 * ticks, 1 s election timeout, as etcd's defaults) and waits until they agree on a leader.
 */
export async function startTsraftCluster(options: TsraftClusterOptions): Promise<BenchCluster> {
  if (!options.batching && !serveHasBatchingFlag()) {
    throw new Error('this tsraft serve has no --batching flag: cannot turn leader batching off');
  }
  const root = makeTempDir('tsraft-bench-cluster-');
  const ids = ['n1', 'n2', 'n3'];
  const members: { id: string; logFile: string; child: TrackedChild }[] = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all(members.map((m) => m.child.kill()));
    removeTempDir(root);
  };
  const logs = (): string => members.map((m) => `--- ${m.id} ---\n${logTail(m.logFile)}`).join('\n');
  try {
    const ports = await freePorts(ids.length);
    const endpoints = ports.map((port) => `127.0.0.1:${port}`);
    const peers = ids.map((id, i) => `${id}=${endpoints[i]}`).join(',');
    for (const [i, id] of ids.entries()) {
      const logFile = path.join(root, `${id}.log`);
      const log = openSync(logFile, 'a');
      const args = [
        TSRAFT_CLI,
        'serve',
        `--id=${id}`,
        `--listen=${endpoints[i]}`,
        `--peers=${peers}`,
        `--data-dir=${path.join(root, id)}`,
        `--transport=${options.transport}`,
        '--log-level=warn',
      ];
      if (!options.batching) args.push('--batching=off');
      const child = spawnTracked(process.execPath, args, { stdio: ['ignore', log, log] });
      closeSync(log);
      members.push({ id, logFile, child });
    }
    await waitForLeader(endpoints, members, options.leaderTimeoutMs ?? 30_000);
    return {
      label: `tsraft ${options.transport}, batching ${options.batching ? 'on' : 'off'}`,
      endpoints,
      pids: members.map((m) => m.child.pid),
      logs,
      close,
    };
  } catch (error) {
    const detail = logs();
    await close();
    throw new Error(`the tsraft cluster did not start: ${String(error)}\n${detail}`, { cause: error });
  }
}

async function waitForLeader(
  endpoints: readonly string[],
  members: readonly { id: string; child: TrackedChild }[],
  timeoutMs: number,
): Promise<void> {
  const client = createKvClient({ endpoints, timeoutMs: 1_000 });
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  try {
    for (;;) {
      const dead = members.filter((m) => !m.child.running());
      if (dead.length > 0) throw new Error(`${dead.map((m) => m.id).join(', ')} exited`);
      const statuses = await Promise.all(
        endpoints.map((endpoint) => client.status(endpoint).catch(() => undefined)),
      );
      seen = statuses
        .map((s) => (s === undefined ? 'no answer' : `${s.role} leader ${s.leaderId}`))
        .join('; ');
      const leaders = new Set(statuses.map((s) => s?.leaderId));
      if (leaders.size === 1 && !leaders.has(undefined) && statuses.some((s) => s?.role === 'leader')) return;
      if (Date.now() > deadline) throw new Error(`no leader within ${timeoutMs} ms (last seen: ${seen})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.close();
  }
}
