// The core on its own: one RawNode, driven by hand, the way a custom driver would (packages/core/README.md).
// A single-voter cluster, so it elects itself and commits without any network.
import { MemoryStorage, RawNode, type Ready } from '@tsraft/core';

const storage = new MemoryStorage({ conf: { voters: ['n1'], learners: [] } });
const node = new RawNode({ id: 'n1', storage, randomSeed: 7, electionTicks: 10, heartbeatTicks: 1 });
const applied: string[] = [];

/** Handles one Ready in the order its contract gives, then acknowledges it. */
function handle(ready: Ready): void {
  // 1. `messages` could be sent now (there are no peers here).
  // 2. Persist (MemoryStorage stands in for a disk; a real one fsyncs when ready.mustSync).
  storage.saveSync({
    hardState: ready.hardState,
    entries: ready.entries,
    snapshot: ready.snapshot,
    sync: ready.mustSync,
  });
  // 3. Only now may `persistedMessages` (votes, append acknowledgements) be sent.
  // 4. Apply what committed.
  for (const entry of ready.committedEntries) {
    if (entry.type === 'normal') applied.push(new TextDecoder().decode(entry.data));
  }
  // 5. Acknowledge.
  node.advance(ready);
}

function drain(): void {
  while (node.hasReady()) handle(node.ready());
}

// Time is ticks: after an election timeout the node campaigns and, alone, wins.
for (let tick = 0; tick < 20 && node.status().role !== 'leader'; tick++) {
  node.tick();
  drain();
}
console.log(`role after ticking: ${node.status().role}, term ${node.status().hardState.term}`);

// Proposals made before the next ready() travel as one batch.
for (const command of ['set x=1', 'set y=2', 'set z=3']) node.propose(new TextEncoder().encode(command));
drain();
console.log(`applied: ${applied.join(', ')}`);

if (node.status().role !== 'leader' || applied.length !== 3) {
  console.error('FAILED: expected a leader that applied 3 commands');
  process.exit(1);
}
console.log('OK: elected, replicated, committed and applied without I/O');
