import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { CommandSchema, SessionRefSchema } from '@tsraft/proto';
import { decodeKvCommand, encodeKvCommand } from './command-codec.js';
import type { KvProposal } from './kv-command.js';
import { KvCommandError } from './kv-command-error.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

test('every command round-trips, with and without a session', () => {
  const proposals: KvProposal[] = [
    { command: { type: 'put', key: bytes('k'), value: bytes('v') }, proposedAtMs: 1_700_000_000_000 },
    { command: { type: 'put', key: new Uint8Array(0), value: new Uint8Array(0) }, proposedAtMs: 0 },
    {
      command: { type: 'delete', key: Uint8Array.of(0, 255, 128) },
      session: { sessionId: 7, sequence: 3, firstIncomplete: 2 },
      proposedAtMs: 5,
    },
    {
      command: { type: 'compareAndSwap', key: bytes('k'), expected: bytes('old'), value: bytes('new') },
      session: { sessionId: Number.MAX_SAFE_INTEGER, sequence: 1, firstIncomplete: 0 },
      proposedAtMs: Number.MAX_SAFE_INTEGER,
    },
    {
      command: { type: 'compareAndSwap', key: bytes('k'), expected: undefined, value: bytes('x') },
      proposedAtMs: 9,
    },
    { command: { type: 'openSession' }, proposedAtMs: 42 },
  ];
  for (const proposal of proposals) {
    assert.deepEqual(decodeKvCommand(encodeKvCommand(proposal)), proposal);
  }
});

test('compareAndSwap keeps an empty expected value apart from an absent one', () => {
  const empty = decodeKvCommand(
    encodeKvCommand({
      command: { type: 'compareAndSwap', key: bytes('k'), expected: new Uint8Array(0), value: bytes('v') },
      proposedAtMs: 1,
    }),
  );
  assert.equal(empty.command.type, 'compareAndSwap');
  assert.deepEqual(empty.command.type === 'compareAndSwap' && empty.command.expected, new Uint8Array(0));
  const absent = decodeKvCommand(
    encodeKvCommand({
      command: { type: 'compareAndSwap', key: bytes('k'), expected: undefined, value: bytes('v') },
      proposedAtMs: 1,
    }),
  );
  assert.equal(absent.command.type === 'compareAndSwap' && absent.command.expected, undefined);
});

test('malformed bytes throw KvCommandError', () => {
  const encoded = encodeKvCommand({
    command: { type: 'put', key: bytes('key'), value: bytes('value') },
    proposedAtMs: 1,
  });
  for (const bad of [
    Uint8Array.of(0xff),
    Uint8Array.of(0x1a, 0x10, 0x0a),
    encoded.subarray(0, encoded.length - 2),
  ]) {
    assert.throws(() => decodeKvCommand(bad), KvCommandError);
  }
});

test('a command without an operation throws KvCommandError', () => {
  assert.throws(() => decodeKvCommand(new Uint8Array(0)), KvCommandError);
  const noOp = toBinary(CommandSchema, create(CommandSchema, { proposedAtMs: 5n }));
  assert.throws(() => decodeKvCommand(noOp), /no operation/);
});

test('numbers beyond the safe integers throw KvCommandError', () => {
  const tooBig = BigInt(Number.MAX_SAFE_INTEGER) + 1n;
  const base = { operation: { case: 'openSession' as const, value: {} } };
  const atMs = toBinary(CommandSchema, create(CommandSchema, { ...base, proposedAtMs: tooBig }));
  assert.throws(() => decodeKvCommand(atMs), /proposedAtMs/);
  for (const field of ['sessionId', 'sequence', 'firstIncomplete'] as const) {
    const session = create(SessionRefSchema, {
      sessionId: 1n,
      sequence: 1n,
      firstIncomplete: 1n,
      [field]: tooBig,
    });
    const data = toBinary(CommandSchema, create(CommandSchema, { ...base, session }));
    assert.throws(() => decodeKvCommand(data), KvCommandError, field);
  }
});

test('an inconsistent session is refused on both sides', () => {
  const command = { type: 'openSession' } as const;
  for (const session of [
    { sessionId: 1, sequence: 0, firstIncomplete: 0 },
    { sessionId: 1, sequence: 2, firstIncomplete: 3 },
  ]) {
    assert.throws(() => encodeKvCommand({ command, session, proposedAtMs: 0 }), KvCommandError);
    const data = toBinary(
      CommandSchema,
      create(CommandSchema, {
        operation: { case: 'openSession', value: {} },
        session: {
          sessionId: BigInt(session.sessionId),
          sequence: BigInt(session.sequence),
          firstIncomplete: BigInt(session.firstIncomplete),
        },
      }),
    );
    assert.throws(() => decodeKvCommand(data), KvCommandError);
  }
});

test('encoding refuses numbers that are not non-negative safe integers', () => {
  const command = { type: 'openSession' } as const;
  for (const proposedAtMs of [-1, 1.5, Number.NaN, 2 ** 53]) {
    assert.throws(() => encodeKvCommand({ command, proposedAtMs }), KvCommandError);
  }
  assert.throws(
    () =>
      encodeKvCommand({
        command,
        session: { sessionId: -1, sequence: 1, firstIncomplete: 1 },
        proposedAtMs: 0,
      }),
    KvCommandError,
  );
});

test('decoded byte fields are views of the input, not copies', () => {
  const data = encodeKvCommand({
    command: { type: 'put', key: bytes('k'), value: bytes('v') },
    proposedAtMs: 1,
  });
  const decoded = decodeKvCommand(data);
  assert.equal(decoded.command.type === 'put' && decoded.command.value.buffer, data.buffer);
});
