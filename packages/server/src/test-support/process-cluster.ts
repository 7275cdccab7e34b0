import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ClusterClient,
  createClusterClient,
  createKvClient,
  createKvStub,
  type KvClient,
  type KvClientOptions,
  type KvStub,
} from '@tsraft/kv-client';
import type { StatusResponse } from '@tsraft/proto';
import { type FreezableProxy, freezableProxy } from '@tsraft/testkit';

/** The built `tsraft` command. */
export const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** Bound of every wait in the end-to-end tests. */
export const WAIT_MS = 30_000;
const POLL_MS = 25;

export interface ProcessClusterOptions {
  readonly transport: 'unary' | 'streaming';
  readonly nodes?: number;
  readonly snapshotIntervalEntries?: number;
  /** Route every peer link through a freezable relay so that {@link ProcessCluster.isolate} can cut a node off. */
  readonly partitionable?: boolean;
  /**
   * Mutual TLS: every node serves with these files (`--tls-cert`, `--tls-key`, `--tls-ca`), and the cluster's
   * own stubs and clients present the same certificate. Absent: plaintext.
   */
  readonly tls?: ProcessClusterTls;
  /**
   * The host written in each node's `--peers` (default `127.0.0.1`), e.g. `localhost` to dial peers by a DNS
   * name. The nodes still listen on 127.0.0.1, and clients still use 127.0.0.1.
   */
  readonly peerHost?: string;
  /** Extra environment variables of every `tsraft serve` process (on top of this process's environment). */
  readonly env?: Readonly<Record<string, string>>;
}

/** TLS files of a {@link ProcessCluster}: PEM CA bundle, certificate and key. */
export interface ProcessClusterTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A node's process and where it is. */
interface Member {
  readonly id: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  /** The `--peers` this node dials (through relays when partitionable); empty for a node that joins. */
  peers: string;
  /** For a node added with {@link ProcessCluster.addNode}: its `--join` and related flags. */
  joinArgs: string[] | null;
  process: ChildProcess | null;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null;
}

/** Reserves a free loopback port (bind to 0, read it, release it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until `check` returns a value other than `undefined`, polling; fails after `ms` naming `what`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = WAIT_MS,
  lastState: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const cause = last === undefined ? '' : `: ${String(last)}`;
      const state = lastState();
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${cause}${state === '' ? '' : `; last seen: ${state}`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * A KV cluster of real `tsraft serve` processes on loopback, each with its own data directory, for
 * end-to-end tests: kill -9 and restart nodes, cut one off, and inspect every member's status.
 */
export class ProcessCluster {
  private readonly allIds: string[];
  private readonly members = new Map<string, Member>();
  private readonly cliChildren = new Set<ChildProcess>();
  private readonly relays = new Map<string, FreezableProxy>();
  private readonly stubs = new Map<string, KvStub>();
  private readonly clients: (KvClient | ClusterClient)[] = [];
  private readonly root: string;

  private constructor(
    private readonly options: ProcessClusterOptions,
    ids: readonly string[],
    root: string,
  ) {
    this.allIds = [...ids];
    this.root = root;
  }

  /** Every node of the cluster: those it started with, then those added with {@link addNode}. */
  get ids(): readonly string[] {
    return this.allIds;
  }

  /** Starts every node and waits for a leader. */
  static async start(options: ProcessClusterOptions): Promise<ProcessCluster> {
    const ids = Array.from({ length: options.nodes ?? 3 }, (_, i) => `n${i + 1}`);
    const cluster = new ProcessCluster(options, ids, mkdtempSync(path.join(tmpdir(), 'tsraft-e2e-')));
    try {
      await cluster.layout();
      for (const id of ids) cluster.startNode(id);
      await cluster.waitForLeader();
    } catch (error) {
      const logs = ids.map((id) => `--- ${id} ---\n${cluster.logTail(id, 15)}`).join('\n');
      await cluster.close();
      throw new Error(`the cluster did not start: ${String(error)}\n${logs}`, { cause: error });
    }
    return cluster;
  }

  private async layout(): Promise<void> {
    for (const id of this.ids) {
      const dataDir = path.join(this.root, id);
      this.members.set(id, {
        id,
        port: await freePort(),
        dataDir,
        logFile: path.join(this.root, `${id}.log`),
        peers: '',
        joinArgs: null,
        process: null,
        exited: null,
      });
    }
    const peerHost = this.options.peerHost ?? '127.0.0.1';
    for (const member of this.members.values()) {
      const entries: string[] = [];
      for (const other of this.members.values()) {
        let port = other.port;
        if (this.options.partitionable === true && other.id !== member.id) {
          const relay = await freezableProxy(other.port);
          this.relays.set(`${member.id}->${other.id}`, relay);
          port = Number(relay.address.slice(relay.address.lastIndexOf(':') + 1));
        }
        const address = `${peerHost.includes(':') ? `[${peerHost}]` : peerHost}:${port}`;
        entries.push(`${other.id}=${address}`);
      }
      member.peers = entries.join(',');
    }
  }

  /** The address clients use for `id` (direct, never through a relay). */
  endpoint(id: string): string {
    return `127.0.0.1:${this.member(id).port}`;
  }

  get endpoints(): string[] {
    return this.ids.map((id) => this.endpoint(id));
  }

  /**
   * Reserves a port and a data directory for a new node `id` that joins the cluster through the members
   * `through` (`tsraft serve --join`), with `extraArgs` (`--learner`, `--promote-within=N`). Start it with
   * {@link startNode}.
   */
  async addNode(id: string, through: readonly string[], extraArgs: readonly string[] = []): Promise<void> {
    if (this.members.has(id)) throw new Error(`${id} exists`);
    this.members.set(id, {
      id,
      port: await freePort(),
      dataDir: path.join(this.root, id),
      logFile: path.join(this.root, `${id}.log`),
      peers: '',
      joinArgs: [`--join=${through.map((t) => this.endpoint(t)).join(',')}`, ...extraArgs],
      process: null,
      exited: null,
    });
    this.allIds.push(id);
  }

  /** Resolves with how `id`'s process exited (at once if it is not running). */
  async exited(id: string): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    const member = this.member(id);
    return member.exited === null ? null : await member.exited;
  }

  /** Starts (or restarts) `id` on its data directory. */
  startNode(id: string): void {
    const member = this.member(id);
    if (member.process !== null) throw new Error(`${id} is running`);
    const log = openSync(member.logFile, 'a');
    const args = [
      CLI,
      'serve',
      `--id=${id}`,
      `--listen=127.0.0.1:${member.port}`,
      ...(member.joinArgs ?? [`--peers=${member.peers}`]),
      `--data-dir=${member.dataDir}`,
      `--transport=${this.options.transport}`,
      '--tick-interval-ms=50',
      '--log-level=info',
      `--snapshot-interval-entries=${this.options.snapshotIntervalEntries ?? 10_000}`,
    ];
    const tls = this.options.tls;
    if (tls !== undefined) {
      args.push(`--tls-cert=${tls.certFile}`, `--tls-key=${tls.keyFile}`, `--tls-ca=${tls.caFile}`);
    }
    const env = this.options.env === undefined ? process.env : { ...process.env, ...this.options.env };
    const child = spawn(process.execPath, args, { stdio: ['ignore', log, log], env });
    member.process = child;
    member.exited = once(child, 'exit').then(([code, signal]) => {
      member.process = null;
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
  }

  /** Sends `signal` to `id` and waits for it to exit. */
  async stop(
    id: string,
    signal: NodeJS.Signals = 'SIGKILL',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const member = this.member(id);
    const exited = member.exited;
    if (member.process === null || exited === null) throw new Error(`${id} is not running`);
    member.process.kill(signal);
    const timer = setTimeout(() => member.process?.kill('SIGKILL'), WAIT_MS);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
      this.dropStub(id);
    }
  }

  /** Cuts every peer link to and from `id` (client connections stay). Permanent for this cluster. */
  isolate(id: string): void {
    for (const [link, relay] of this.relays) {
      const [from, to] = link.split('->');
      if (from === id || to === id) relay.freeze();
    }
  }

  /** The raw gRPC stub of one member (no retries, no forwarding on the client side). */
  stub(id: string): KvStub {
    let stub = this.stubs.get(id);
    if (stub === undefined) {
      stub = createKvStub(this.endpoint(id), this.options.tls === undefined ? {} : { tls: this.options.tls });
      this.stubs.set(id, stub);
    }
    return stub;
  }

  /** A client of the given members (default all); closed with the cluster. */
  client(ids: readonly string[] = this.ids, options: Partial<KvClientOptions> = {}): KvClient {
    const client = createKvClient({
      endpoints: ids.map((id) => this.endpoint(id)),
      timeoutMs: 10_000,
      ...(this.options.tls === undefined ? {} : { tls: this.options.tls }),
      ...options,
    });
    this.clients.push(client);
    return client;
  }

  /** A membership client of the given members (default all); closed with the cluster. */
  clusterClient(ids: readonly string[] = this.ids): ClusterClient {
    const client = createClusterClient({
      endpoints: ids.map((id) => this.endpoint(id)),
      timeoutMs: 10_000,
      ...(this.options.tls === undefined ? {} : { tls: this.options.tls }),
    });
    this.clients.push(client);
    return client;
  }

  /**
   * Runs the built `tsraft` with `args` and `--endpoints` of `ids` (default: the running members; `null`: no
   * `--endpoints`), killed if it outlives `timeoutMs`; resolves with its exit status and output.
   */
  cli(
    args: readonly string[],
    ids: readonly string[] | null = this.running(),
    timeoutMs = WAIT_MS,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const endpoints = ids === null ? [] : [`--endpoints=${ids.map((id) => this.endpoint(id)).join(',')}`];
    const child = spawn(process.execPath, [CLI, ...args, ...endpoints], {
      env: { ...process.env, TSRAFT_ENDPOINTS: '', TSRAFT_TIMEOUT_MS: '', TSRAFT_TLS_CA: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.cliChildren.add(child);
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
        this.cliChildren.delete(child);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** One member's status, or undefined when it does not answer. */
  async status(id: string): Promise<StatusResponse | undefined> {
    if (this.member(id).process === null) return undefined;
    try {
      return await this.stub(id).status({} as never, { deadlineMs: Date.now() + 1_000 });
    } catch {
      return undefined;
    }
  }

  /** Waits until the members in `among` (default: all running) agree on one leader among them. */
  async waitForLeader(among: readonly string[] = this.running()): Promise<string> {
    let seen = '';
    return until(
      `a leader among ${among.join(', ')}`,
      async () => {
        const statuses = await Promise.all(among.map((id) => this.status(id)));
        seen = statuses
          .map(
            (s, i) =>
              `${among[i]}: ${s === undefined ? 'no answer' : `${s.role} term ${s.term} leader ${s.leaderId}`}`,
          )
          .join('; ');
        const leaders = new Set(statuses.map((s) => s?.leaderId ?? ''));
        if (leaders.size !== 1) return undefined;
        const [leader] = leaders;
        return leader !== undefined && among.includes(leader) && statuses.some((s) => s?.role === 'leader')
          ? leader
          : undefined;
      },
      WAIT_MS,
      () => seen,
    );
  }

  /** Waits until every member in `ids` has applied the same index with the same state digest; returns it. */
  async waitConverged(ids: readonly string[] = this.ids): Promise<{ applied: bigint; digest: string }> {
    let seen = '';
    return until(
      `${ids.join(', ')} to converge`,
      async () => {
        const statuses = await Promise.all(ids.map((id) => this.status(id)));
        seen = statuses
          .map((s, i) =>
            s === undefined
              ? `${ids[i]}: no answer`
              : `${s.memberId} ${s.role} term ${s.term} leader ${s.leaderId} commit ${s.commitIndex} applied ${s.appliedIndex} ${s.stateDigest.slice(0, 8)}`,
          )
          .join('; ');
        if (statuses.some((s) => s === undefined)) return undefined;
        const first = statuses[0]!;
        const same = statuses.every(
          (s) => s!.appliedIndex === first.appliedIndex && s!.stateDigest === first.stateDigest,
        );
        return same && first.appliedIndex === first.commitIndex
          ? { applied: first.appliedIndex, digest: first.stateDigest }
          : undefined;
      },
      WAIT_MS,
      () => seen,
    );
  }

  /** Ids of the running members. */
  running(): string[] {
    return this.ids.filter((id) => this.member(id).process !== null);
  }

  /** The tail of a member's log, for failure messages. */
  logTail(id: string, lines = 40): string {
    try {
      return readFileSync(this.member(id).logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** A directory under the cluster's own, removed with it. */
  scratchDir(name: string): string {
    return path.join(this.root, 'scratch', name);
  }

  /** The full log of a member. */
  log(id: string): string {
    return readFileSync(this.member(id).logFile, 'utf8');
  }

  /** Kills every process, closes relays and clients, removes the data. */
  async close(): Promise<void> {
    for (const child of this.cliChildren) child.kill('SIGKILL');
    for (const client of this.clients.splice(0)) client.close();
    for (const id of [...this.stubs.keys()]) this.dropStub(id);
    await Promise.all(
      [...this.members.values()].map(async (member) => {
        if (member.process !== null && member.exited !== null) {
          member.process.kill('SIGKILL');
          await member.exited;
        }
      }),
    );
    await Promise.all([...this.relays.values()].map((relay) => relay.close()));
    rmSync(this.root, { recursive: true, force: true });
  }

  private dropStub(id: string): void {
    this.stubs.get(id)?.close();
    this.stubs.delete(id);
  }

  private member(id: string): Member {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no member ${id}`);
    return member;
  }
}
