import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import type { BenchCluster } from '../cluster/bench-cluster.js';
import {
  freePorts,
  logTail,
  makeTempDir,
  removeTempDir,
  spawnTracked,
  type TrackedChild,
} from '../cluster/processes.js';

/** `etcd --version`'s first line, e.g. `etcd Version: 3.4.23`, or the path if it does not answer. */
export function etcdVersion(binary: string): string {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return binary;
  }
}

/**
 * Starts a 3-member etcd cluster on loopback: temp data directories, free ports, a static `--initial-cluster`,
 * etcd's default durability (fsync of the WAL before every acknowledgement) and timing (100 ms heartbeat,
 * 1 s election timeout); waits until a Put succeeds.
 */
export async function startEtcdCluster(binary: string, readyTimeoutMs = 30_000): Promise<BenchCluster> {
  const root = makeTempDir('etcd-bench-');
  const names = ['e1', 'e2', 'e3'];
  const members: { name: string; logFile: string; child: TrackedChild }[] = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all(members.map((m) => m.child.kill()));
    removeTempDir(root);
  };
  const logs = (): string => members.map((m) => `--- ${m.name} ---\n${logTail(m.logFile)}`).join('\n');
  try {
    const ports = await freePorts(names.length * 2);
    const clientUrl = (i: number): string => `http://127.0.0.1:${ports[2 * i]}`;
    const peerUrl = (i: number): string => `http://127.0.0.1:${ports[2 * i + 1]}`;
    const initialCluster = names.map((name, i) => `${name}=${peerUrl(i)}`).join(',');
    // No ETCD_* variables from this environment: the flags alone configure the members.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ETCD_')));
    for (const [i, name] of names.entries()) {
      const logFile = path.join(root, `${name}.log`);
      const log = openSync(logFile, 'a');
      const args = [
        `--name=${name}`,
        `--data-dir=${path.join(root, name)}`,
        `--listen-client-urls=${clientUrl(i)}`,
        `--advertise-client-urls=${clientUrl(i)}`,
        `--listen-peer-urls=${peerUrl(i)}`,
        `--initial-advertise-peer-urls=${peerUrl(i)}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=bench-${path.basename(root)}`,
        '--logger=zap',
        '--log-level=warn',
      ];
      const child = spawnTracked(binary, args, { stdio: ['ignore', log, log], env });
      closeSync(log);
      members.push({ name, logFile, child });
    }
    const endpoints = names.map((_, i) => clientUrl(i).slice('http://'.length));
    await waitWritable(endpoints, members, readyTimeoutMs);
    return {
      label: etcdVersion(binary).replace(/^etcd Version: /, 'etcd '),
      endpoints,
      pids: members.map((m) => m.child.pid),
      logs,
      close,
    };
  } catch (error) {
    const detail = logs();
    await close();
    throw new Error(`the etcd cluster did not start: ${String(error)}\n${detail}`, { cause: error });
  }
}

async function waitWritable(
  endpoints: readonly string[],
  members: readonly { name: string; child: TrackedChild }[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const dead = members.filter((m) => !m.child.running());
    if (dead.length > 0) throw new Error(`${dead.map((m) => m.name).join(', ')} exited`);
    // Every member answers, and the cluster takes a write.
    const ok = await Promise.all(
      endpoints.map(async (endpoint) => {
        const client = new Etcd3({
          hosts: `http://${endpoint}`,
          defaultCallOptions: () => ({ deadline: Date.now() + 1_000 }),
        });
        try {
          await client.put('bench-ready').value('1').exec();
          return true;
        } catch (error) {
          last = error;
          return false;
        } finally {
          client.close();
        }
      }),
    );
    if (ok.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`not writable within ${timeoutMs} ms: ${String(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
