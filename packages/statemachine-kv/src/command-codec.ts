import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type Command,
  CommandSchema,
  CompareAndSwapOperationSchema,
  DeleteOperationSchema,
  OpenSessionOperationSchema,
  PutOperationSchema,
  type SessionRef,
  SessionRefSchema,
} from '@tsraft/proto';
import type { KvCommand, KvProposal, KvSessionRef } from './kv-command.js';
import { KvCommandError } from './kv-command-error.js';

/**
 * Encodes a proposal as the data of a Raft entry: a `tsraft.kv.v1.Command` (see
 * `proto/tsraft/kv/v1/command.proto`).
 * @throws KvCommandError when a number is not a non-negative safe integer, or the session is inconsistent
 * (`sequence` below 1, `firstIncomplete` above `sequence`).
 */
export function encodeKvCommand(proposal: KvProposal): Uint8Array {
  const message = create(CommandSchema, {
    proposedAtMs: toUint64(proposal.proposedAtMs, 'proposedAtMs'),
    operation: encodeOperation(proposal.command),
  });
  if (proposal.session !== undefined) {
    checkSession(proposal.session);
    message.session = create(SessionRefSchema, {
      sessionId: toUint64(proposal.session.sessionId, 'sessionId'),
      sequence: toUint64(proposal.session.sequence, 'sequence'),
      firstIncomplete: toUint64(proposal.session.firstIncomplete, 'firstIncomplete'),
    });
  }
  return toBinary(CommandSchema, message);
}

/**
 * Decodes the data of a Raft entry written by {@link encodeKvCommand}. Byte fields of the result are views
 * into `bytes` (no copy): copy what you keep.
 * @throws KvCommandError when the bytes are not a command, the operation is missing, a number exceeds
 * `Number.MAX_SAFE_INTEGER`, or the session is inconsistent.
 */
export function decodeKvCommand(bytes: Uint8Array): KvProposal {
  let message: Command;
  try {
    message = fromBinary(CommandSchema, bytes);
  } catch (cause) {
    throw new KvCommandError(`not a KV command: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
  const command = decodeOperation(message.operation);
  const proposedAtMs = fromUint64(message.proposedAtMs, 'proposedAtMs');
  if (message.session === undefined) return { command, proposedAtMs };
  const session = decodeSession(message.session);
  checkSession(session);
  return { command, session, proposedAtMs };
}

function encodeOperation(command: KvCommand): Command['operation'] {
  switch (command.type) {
    case 'put':
      return { case: 'put', value: create(PutOperationSchema, { key: command.key, value: command.value }) };
    case 'delete':
      return { case: 'delete', value: create(DeleteOperationSchema, { key: command.key }) };
    case 'compareAndSwap': {
      const value = create(CompareAndSwapOperationSchema, { key: command.key, value: command.value });
      // Leaving `expected` unset (not empty) is what means "the key must be absent".
      if (command.expected !== undefined) value.expected = command.expected;
      return { case: 'compareAndSwap', value };
    }
    case 'openSession':
      return { case: 'openSession', value: create(OpenSessionOperationSchema) };
    default:
      throw new KvCommandError(`unknown command type ${String((command as { type: unknown }).type)}`);
  }
}

function decodeOperation(operation: Command['operation']): KvCommand {
  switch (operation.case) {
    case 'put':
      return { type: 'put', key: operation.value.key, value: operation.value.value };
    case 'delete':
      return { type: 'delete', key: operation.value.key };
    case 'compareAndSwap':
      return {
        type: 'compareAndSwap',
        key: operation.value.key,
        expected: operation.value.expected,
        value: operation.value.value,
      };
    case 'openSession':
      return { type: 'openSession' };
    default:
      throw new KvCommandError('the command has no operation');
  }
}

function decodeSession(session: SessionRef): KvSessionRef {
  return {
    sessionId: fromUint64(session.sessionId, 'sessionId'),
    sequence: fromUint64(session.sequence, 'sequence'),
    firstIncomplete: fromUint64(session.firstIncomplete, 'firstIncomplete'),
  };
}

function checkSession(session: KvSessionRef): void {
  if (session.sequence < 1)
    throw new KvCommandError(`session sequence must be >= 1, got ${session.sequence}`);
  // A client cannot have received the answer to the write it is sending.
  if (session.firstIncomplete > session.sequence) {
    throw new KvCommandError(
      `session firstIncomplete (${session.firstIncomplete}) must not exceed sequence (${session.sequence})`,
    );
  }
}

function toUint64(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new KvCommandError(`${field} must be a non-negative safe integer, got ${value}`);
  }
  return BigInt(value);
}

function fromUint64(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new KvCommandError(`${field} ${value} exceeds Number.MAX_SAFE_INTEGER`);
  }
  return Number(value);
}
