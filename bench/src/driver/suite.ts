import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BenchCase, BenchSuite } from '../suite.js';
import { DriverCluster, type DriverSettings } from './driver-cluster.js';

/** Proposals per measured call, so that `PROPOSALS_PER_CALL / mean` is proposals/s. */
export const PROPOSALS_PER_CALL = 256;
/** Proposals outstanding at the leader. */
export const IN_FLIGHT = 64;
const PAYLOAD = new Uint8Array(128).fill(3);

/** The compared ways of driving the core. */
export const DRIVER_CASES: Readonly<Record<string, DriverSettings>> = {
  'pipelined+batched': { asyncWrites: true, batching: true },
  'one-write-at-a-time+batched': { asyncWrites: false, batching: true },
  'pipelined+unbatched': { asyncWrites: true, batching: false },
};

/**
 * The driver itself, without gRPC or clients: 3 in-process nodes on durable disk storage and the in-memory
 * network, 64 proposals of 128 B in flight at the leader. Pipelined writes (the next Ready taken while the
 * previous fsync is in flight) against one write at a time, and proposal batching against one proposal per
 * Ready.
 */
export function createDriverSuite(): BenchSuite {
  let dir: string | null = null;
  const root = (): string => {
    if (dir === null) {
      const made = mkdtempSync(path.join(tmpdir(), 'tsraft-bench-driver-'));
      process.once('exit', () => rmSync(made, { recursive: true, force: true }));
      dir = made;
    }
    return dir;
  };
  const clusters = new Map<string, Promise<DriverCluster>>();
  const cases: Record<string, BenchCase> = {};
  for (const [name, settings] of Object.entries(DRIVER_CASES)) {
    cases[name] = async () => {
      let cluster = clusters.get(name);
      if (cluster === undefined) {
        cluster = DriverCluster.start(path.join(root(), name), settings);
        clusters.set(name, cluster);
      }
      await (await cluster).proposeClosedLoop(PROPOSALS_PER_CALL, IN_FLIGHT, PAYLOAD);
    };
  }
  return {
    name: 'driver',
    defaultRounds: 3,
    description: `the Ready loop alone: 3 in-process nodes, disk storage with fdatasync, in-memory network; ${IN_FLIGHT} proposals of 128 B in flight, ${PROPOSALS_PER_CALL} per call`,
    cases,
    throughput: { unit: 'proposals/s', perOp: () => PROPOSALS_PER_CALL },
    comparisons: [
      {
        name: 'proposals/s: pipelined over one write at a time',
        numerator: 'one-write-at-a-time+batched',
        denominator: 'pipelined+batched',
      },
      {
        name: 'proposals/s: batched over one proposal per Ready',
        numerator: 'pipelined+unbatched',
        denominator: 'pipelined+batched',
      },
    ],
    close: async () => {
      for (const cluster of clusters.values()) await (await cluster.catch(() => null))?.close();
      clusters.clear();
    },
  };
}
