/**
 * Process plumbing of the load suites: free loopback ports, child processes that die with this one, temp
 * directories that go with it, and the CPU time of a process read from /proc.
 */
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

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

/** `count` distinct free loopback ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooked = false;

function killAllNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  // Die of the same signal, as without this handler.
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  process.kill(process.pid, signal);
}

/** Kills every tracked child and removes every tracked directory when this process exits or is interrupted. */
function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function unhookIfIdle(): void {
  if (!hooked || children.size > 0 || tempDirs.size > 0) return;
  hooked = false;
  process.removeListener('exit', killAllNow);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
}

/** A child process that is killed (SIGKILL) if this process exits or is interrupted first. */
export interface TrackedChild {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves when the child has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether it is still running. */
  running(): boolean;
  /** SIGKILLs it (if running) and waits for it to exit. */
  kill(): Promise<void>;
}

export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions): TrackedChild {
  hook();
  const child = spawn(command, args, options);
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      unhookIfIdle();
      resolve({ code, signal });
    });
    child.once('error', () => {
      // spawn failed (e.g. ENOENT): there will be no 'exit'.
      if (child.pid === undefined) {
        children.delete(child);
        unhookIfIdle();
        resolve({ code: null, signal: null });
      }
    });
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null && children.has(child);
  return {
    process: child,
    pid: child.pid ?? -1,
    exited,
    running,
    kill: async () => {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A fresh temp directory, removed with {@link removeTempDir} or when this process exits. */
export function makeTempDir(prefix: string): string {
  hook();
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
  unhookIfIdle();
}

let clockTicks: number | undefined;

/** Clock ticks per second of /proc's CPU times. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU time of process `pid` (all its threads) so far, in milliseconds; NaN if unreadable. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: count fields from the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / ticksPerSecond();
  } catch {
    return Number.NaN;
  }
}

/** Total CPU time of `pids`, in milliseconds. */
export function totalCpuMs(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += processCpuMs(pid);
  return total;
}

/** The first executable `name` on `searchPath` (a PATH-style list), or undefined. */
export function which(name: string, searchPath: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The last `lines` lines of a log file, for failure messages. */
export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
