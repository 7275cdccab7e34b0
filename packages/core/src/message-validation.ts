import { validateConfState } from './conf-change.js';
import type { Entry } from './entry.js';
import { RaftError } from './errors.js';
import type { Message } from './message.js';
import type { Snapshot } from './snapshot.js';
import { SnapshotData } from './snapshot-data.js';

const ENTRY_TYPES = new Set(['normal', 'noop', 'config']);

function fail(message: Message, reason: string): never {
  throw new RaftError(
    'INVALID_ARGUMENT',
    `malformed ${String(message.type)} message from ${String(message.from)}: ${reason}`,
  );
}

function checkIndex(message: Message, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(message, `${name} must be a non-negative safe integer, got ${String(value)}`);
  }
}

function checkEntries(
  message: Message,
  prevLogIndex: number,
  prevLogTerm: number,
  entries: readonly Entry[],
): void {
  if (!Array.isArray(entries)) fail(message, 'entries must be an array');
  let lastTerm = prevLogTerm;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.index !== prevLogIndex + 1 + i)
      fail(message, `entry ${i} has index ${entry.index}, expected ${prevLogIndex + 1 + i}`);
    checkIndex(message, 'entry term', entry.term);
    if (entry.term < lastTerm || entry.term > message.term || entry.term === 0) {
      fail(
        message,
        `entry ${entry.index} has term ${entry.term} out of order (after ${lastTerm}, message term ${message.term})`,
      );
    }
    if (!ENTRY_TYPES.has(entry.type))
      fail(message, `entry ${entry.index} has unknown type ${String(entry.type)}`);
    if (!(entry.data instanceof Uint8Array)) fail(message, `entry ${entry.index} data must be a Uint8Array`);
    lastTerm = entry.term;
  }
}

function checkSnapshot(message: Message, snapshot: Snapshot): void {
  if (snapshot === null || typeof snapshot !== 'object' || snapshot.meta === undefined)
    fail(message, 'snapshot is missing');
  checkIndex(message, 'snapshot index', snapshot.meta.index);
  checkIndex(message, 'snapshot term', snapshot.meta.term);
  if (snapshot.meta.index === 0) fail(message, 'snapshot index must be at least 1');
  if (!(snapshot.data instanceof SnapshotData)) fail(message, 'snapshot data must be a SnapshotData');
  const conf = snapshot.meta.conf;
  if (conf === undefined || !Array.isArray(conf.voters) || !Array.isArray(conf.learners))
    fail(message, 'snapshot conf is malformed');
  try {
    validateConfState(conf, 'snapshot conf');
  } catch (error) {
    fail(message, error instanceof Error ? error.message : String(error));
  }
}

/**
 * Rejects a structurally malformed message with `INVALID_ARGUMENT` before it can touch any state:
 * a transport may hand the core anything a peer (or an attacker) sent.
 */
export function validateMessage(message: Message): void {
  if (message === null || typeof message !== 'object') {
    throw new RaftError('INVALID_ARGUMENT', 'message must be an object');
  }
  if (typeof message.from !== 'string' || message.from.length === 0)
    fail(message, 'from must be a non-empty string');
  if (typeof message.to !== 'string' || message.to.length === 0)
    fail(message, 'to must be a non-empty string');
  checkIndex(message, 'term', message.term);
  switch (message.type) {
    case 'vote':
      checkIndex(message, 'lastLogIndex', message.lastLogIndex);
      checkIndex(message, 'lastLogTerm', message.lastLogTerm);
      return;
    case 'voteResponse':
    case 'timeoutNow':
      return;
    case 'append':
      checkIndex(message, 'prevLogIndex', message.prevLogIndex);
      checkIndex(message, 'prevLogTerm', message.prevLogTerm);
      checkIndex(message, 'commit', message.commit);
      checkEntries(message, message.prevLogIndex, message.prevLogTerm, message.entries);
      return;
    case 'appendResponse':
      checkIndex(message, 'index', message.index);
      checkIndex(message, 'rejectHintIndex', message.rejectHintIndex);
      checkIndex(message, 'rejectHintTerm', message.rejectHintTerm);
      checkIndex(message, 'commit', message.commit);
      return;
    case 'heartbeat':
      checkIndex(message, 'commit', message.commit);
      checkIndex(message, 'context', message.context);
      return;
    case 'heartbeatResponse':
      checkIndex(message, 'context', message.context);
      checkIndex(message, 'commit', message.commit);
      return;
    case 'snapshot':
      checkSnapshot(message, message.snapshot);
      return;
    case 'readIndex':
      checkIndex(message, 'requestId', message.requestId);
      return;
    case 'readIndexResponse':
      checkIndex(message, 'requestId', message.requestId);
      checkIndex(message, 'index', message.index);
      return;
    default:
      fail(message, 'unknown message type');
  }
}
