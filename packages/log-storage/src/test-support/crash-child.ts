// A child process for the SIGKILL test: appends to the storage in `argv[2]` forever, several saves in
// flight at a time, and prints each acknowledged last index as soon as its save resolves.
import type { Entry } from '@tsraft/core';
import { openLogStorage } from '../disk-log-storage.js';

/** The payload of entry `index`, which the parent checks after the crash. */
export function crashPayload(index: number): Uint8Array {
  return new TextEncoder().encode(`entry ${index} `.repeat(1 + (index % 7)));
}

async function main(dir: string): Promise<void> {
  const storage = await openLogStorage({ dir, nodeId: 'a', clusterId: 'crash', segmentBytes: 16 * 1024 });
  let next = storage.lastIndex() + 1;
  const appendOne = async (): Promise<void> => {
    const count = 1 + (next % 5);
    const entries: Entry[] = [];
    for (let i = 0; i < count; i++, next++)
      entries.push({ index: next, term: 1, type: 'normal', data: crashPayload(next) });
    const last = next - 1;
    await storage.save({
      entries,
      hardState: { term: 1, vote: 'a', commit: last },
      snapshot: null,
      sync: true,
    });
    process.stdout.write(`${last}\n`);
  };
  const lane = async (): Promise<void> => {
    for (;;) await appendOne();
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
}

if (process.argv[2] !== undefined) await main(process.argv[2]);
