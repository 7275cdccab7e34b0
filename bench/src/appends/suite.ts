import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Entry } from '@tsraft/core';
import { type DiskLogStorage, openLogStorage } from '@tsraft/log-storage';
import type { BenchCase, BenchSuite } from '../suite.js';

/** Entries every case appends per call, so that mean latencies compare as entries/s. */
export const ENTRIES_PER_CALL = 256;
/** Entries per `save` (one writev and one fdatasync each) in the compared cases. */
export const BATCH_SIZES = [1, 16, 64, 256] as const;
/** Payload bytes per entry. */
export const PAYLOAD_SIZES = [128, 4096] as const;
/** Log bytes after which a case compacts its log (rarely; keeps the disk footprint bounded). */
const COMPACT_AFTER_BYTES = 64 * 1024 * 1024;

const fdatasync = promisify(fs.fdatasync);
const write = promisify(fs.write);

/** The case name of `batch` entries per fsync of `bytes` each. */
export function caseName(batch: number, bytes: number): string {
  return `batch-${batch}/${bytes === 4096 ? '4KiB' : `${bytes}B`}`;
}

/** A disk log that appends `ENTRIES_PER_CALL` entries per call, `batch` per sequential `save`. */
export interface AppendCase {
  readonly run: () => Promise<void>;
  /** The storage once opened (for tests: its `syncCount` and log). */
  storage(): DiskLogStorage | null;
  close(): Promise<void>;
}

/** Creates one append case in a directory under `root`. The storage opens on the first call. */
export function createAppendCase(root: () => string, batch: number, bytes: number): AppendCase {
  let storage: DiskLogStorage | null = null;
  let opening: Promise<DiskLogStorage> | null = null;
  const data = new Uint8Array(bytes).fill(42);
  let written = 0;
  const run = async (): Promise<void> => {
    opening ??= openLogStorage({
      dir: path.join(root(), caseName(batch, bytes).replace('/', '-')),
      nodeId: 'bench',
      clusterId: 'bench',
      conf: { voters: ['bench'], learners: [] },
    });
    storage ??= await opening;
    const s = storage;
    for (let done = 0; done < ENTRIES_PER_CALL; done += batch) {
      const first = s.lastIndex() + 1;
      const entries: Entry[] = [];
      for (let i = 0; i < batch; i++) entries.push({ index: first + i, term: 1, type: 'normal', data });
      await s.save({ hardState: null, entries, snapshot: null, sync: true });
    }
    written += ENTRIES_PER_CALL * bytes;
    if (written >= COMPACT_AFTER_BYTES) {
      written = 0;
      const last = s.lastIndex();
      await s.saveSnapshot(
        { index: last, term: 1, conf: { voters: ['bench'], learners: [] } },
        new Uint8Array(0),
      );
    }
  };
  return { run, storage: () => storage, close: async () => storage?.close() };
}

/** The ceiling: `ENTRIES_PER_CALL` raw writes of `bytes` at the end of a file, each followed by fdatasync. */
export function createRawSyncCase(root: () => string, bytes: number): BenchCase {
  let fd: number | null = null;
  let position = 0;
  const data = new Uint8Array(bytes).fill(7);
  return async () => {
    fd ??= fs.openSync(path.join(root(), `raw-${bytes}.bin`), 'w');
    for (let i = 0; i < ENTRIES_PER_CALL; i++) {
      await write(fd, data, 0, bytes, position);
      position += bytes;
      if (position >= COMPACT_AFTER_BYTES) position = 0;
      await fdatasync(fd);
    }
  };
}

/** Charts: a row of bars per entry size, a bar per batch size (`batch-16/128B` → `128B`, `batch-16`). */
function bySize(caseName: string): { group: string; series: string } {
  const [series = caseName, group = ''] = caseName.split('/');
  return { group, series };
}

/** Entries per fdatasync of a case, from its name (`raw-fdatasync/…` syncs every entry). */
function entriesPerSync(name: string): number {
  return Number(/batch-(\d+)\//.exec(name)?.[1] ?? 1);
}

/**
 * Durable appends to `@tsraft/log-storage`: one entry per fdatasync against group commits of 16, 64 and
 * 256 entries, with 128 B and 4 KiB entries, and raw `write` + `fdatasync` as the disk's ceiling. Every case
 * appends 256 entries per call, so `256 / mean` is entries/s and latency ratios are throughput ratios.
 */
export function createAppendsSuite(): BenchSuite {
  let dir: string | null = null;
  // Made on the first measured call, so listing or filtering the suites leaves nothing behind.
  const root = (): string => {
    if (dir === null) {
      const made = mkdtempSync(path.join(tmpdir(), 'tsraft-bench-appends-'));
      process.once('exit', () => rmSync(made, { recursive: true, force: true }));
      dir = made;
    }
    return dir;
  };
  const cases: Record<string, BenchCase> = {};
  for (const bytes of PAYLOAD_SIZES) {
    cases[`raw-fdatasync/${bytes === 4096 ? '4KiB' : `${bytes}B`}`] = createRawSyncCase(root, bytes);
    for (const batch of BATCH_SIZES) cases[caseName(batch, bytes)] = createAppendCase(root, batch, bytes).run;
  }
  return {
    name: 'appends',
    // 5 rounds keep a full `pnpm bench` under its 20-minute budget (10 took 303 s for this suite alone).
    defaultRounds: 5,
    description:
      'durable appends, 256 entries per call: one entry per fdatasync vs group commit (batch-N = N entries per writev + fdatasync)',
    cases,
    throughput: { unit: 'entries/s', perOp: () => ENTRIES_PER_CALL },
    charts: [
      {
        name: 'throughput',
        title: 'entries/s by entries per fdatasync',
        metrics: 'throughput',
        groupBy: bySize,
      },
      {
        name: 'fsyncs',
        title: 'fdatasyncs/s by entries per fdatasync',
        metrics: [
          { label: 'fsyncs/s', value: (c) => (c.opsPerSecond * ENTRIES_PER_CALL) / entriesPerSync(c.name) },
        ],
        unit: 'fdatasync/s',
        groupBy: bySize,
      },
      { name: 'latency', title: 'latency of 256 appended entries (p50, p99)', metrics: 'latency' },
    ],
    comparisons: PAYLOAD_SIZES.flatMap((bytes) =>
      BATCH_SIZES.slice(1).map((batch) => ({
        name: `entries/s: ${caseName(batch, bytes)} over ${caseName(1, bytes)}`,
        numerator: caseName(1, bytes),
        denominator: caseName(batch, bytes),
      })),
    ),
  };
}
