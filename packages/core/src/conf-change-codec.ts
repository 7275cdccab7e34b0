import { validateConfState } from './conf-change.js';
import type { ConfChange, ConfState, MemberChange, MemberChangeType } from './conf-state.js';
import type { NodeId } from './entry.js';
import { RaftError } from './errors.js';

// The core reads and writes `config` entries itself, so it stays free of dependencies. The bytes are the
// protobuf encoding of `tsraft.raft.v1.ConfChange` (proto/tsraft/raft/v1/log.proto); @tsraft/codec's tests
// check them against protobuf-es in both directions. Config entries are rare, so plain code beats speed.

const TYPE_NUMBERS: Record<MemberChangeType, number> = { addVoter: 1, addLearner: 2, removeNode: 3 };
const TYPES_BY_NUMBER: readonly (MemberChangeType | undefined)[] = [
  undefined,
  'addVoter',
  'addLearner',
  'removeNode',
];
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** Encodes a {@link ConfChange} as the `data` of a `config` entry. */
export function encodeConfChange(change: ConfChange): Uint8Array {
  const out = new ByteWriter();
  for (const member of change.changes) out.message(1, encodeMemberChange(member));
  out.message(2, encodeConfState(change.conf));
  return out.finish();
}

/**
 * Decodes the `data` of a `config` entry and checks the configuration it carries.
 * @throws RaftError `INVALID_ARGUMENT` when the bytes are not a valid encoded ConfChange.
 */
export function decodeConfChange(bytes: Uint8Array): ConfChange {
  const changes: MemberChange[] = [];
  let conf: ConfState | null = null;
  readFields(bytes, 'ConfChange', (field, reader) => {
    if (field === 1) changes.push(decodeMemberChange(reader.bytes()));
    else if (field === 2) conf = decodeConfState(reader.bytes());
    else return false;
    return true;
  });
  if (conf === null) throw malformed('ConfChange.conf is missing');
  validateConfState(conf, 'ConfChange.conf');
  return { changes, conf };
}

/** Encodes a {@link ConfState} as `tsraft.raft.v1.ConfState`. */
export function encodeConfState(conf: ConfState): Uint8Array {
  const out = new ByteWriter();
  for (const id of conf.voters) out.string(1, id);
  for (const id of conf.learners) out.string(2, id);
  for (const id of conf.votersOutgoing ?? []) out.string(3, id);
  const addresses = conf.addresses ?? {};
  for (const id of Object.keys(addresses).sort()) {
    const entry = new ByteWriter();
    entry.string(1, id);
    entry.string(2, addresses[id]!);
    out.message(4, entry.finish());
  }
  return out.finish();
}

/** Decodes `tsraft.raft.v1.ConfState`. */
export function decodeConfState(bytes: Uint8Array): ConfState {
  const voters: NodeId[] = [];
  const learners: NodeId[] = [];
  const votersOutgoing: NodeId[] = [];
  const addresses: Record<NodeId, string> = {};
  readFields(bytes, 'ConfState', (field, reader) => {
    if (field === 1) voters.push(reader.string());
    else if (field === 2) learners.push(reader.string());
    else if (field === 3) votersOutgoing.push(reader.string());
    else if (field === 4) {
      let key = '';
      let value = '';
      readFields(reader.bytes(), 'ConfState.addresses', (f, r) => {
        if (f === 1) key = r.string();
        else if (f === 2) value = r.string();
        else return false;
        return true;
      });
      addresses[key] = value;
    } else return false;
    return true;
  });
  const conf: ConfState =
    Object.keys(addresses).length === 0 ? { voters, learners } : { voters, learners, addresses };
  return votersOutgoing.length > 0 ? { ...conf, votersOutgoing } : conf;
}

function encodeMemberChange(change: MemberChange): Uint8Array {
  const out = new ByteWriter();
  const type = TYPE_NUMBERS[change.type];
  if (type === undefined)
    throw new RaftError('INVALID_ARGUMENT', `unknown membership change type ${String(change.type)}`);
  out.varint(1, type);
  out.string(2, change.nodeId);
  if (change.address !== undefined && change.address !== '') out.string(3, change.address);
  return out.finish();
}

function decodeMemberChange(bytes: Uint8Array): MemberChange {
  let type: MemberChangeType | undefined;
  let typeNumber = 0;
  let nodeId = '';
  let address = '';
  readFields(bytes, 'MemberChange', (field, reader) => {
    if (field === 1) {
      typeNumber = reader.varint();
      type = TYPES_BY_NUMBER[typeNumber];
    } else if (field === 2) nodeId = reader.string();
    else if (field === 3) address = reader.string();
    else return false;
    return true;
  });
  if (type === undefined) throw malformed(`MemberChange.type ${typeNumber} is unspecified or unknown`);
  if (nodeId === '') throw malformed('MemberChange.node_id is empty');
  return address === '' ? { type, nodeId } : { type, nodeId, address };
}

function malformed(detail: string): RaftError {
  return new RaftError('INVALID_ARGUMENT', `bytes are not a valid tsraft.raft.v1.ConfChange: ${detail}`);
}

/** Walks the fields of one message; `onField` returns false for a field it does not know (skipped). */
function readFields(
  bytes: Uint8Array,
  name: string,
  onField: (field: number, reader: FieldReader) => boolean,
): void {
  const reader = new FieldReader(bytes, name);
  while (!reader.done()) {
    const tag = reader.rawVarint();
    const field = tag >>> 3;
    reader.wireType = tag & 7;
    if (field === 0) throw malformed(`${name} has a field numbered 0`);
    if (!onField(field, reader)) reader.skip();
  }
}

class FieldReader {
  private pos = 0;
  wireType = 0;
  private static readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly buf: Uint8Array,
    private readonly name: string,
  ) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  rawVarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) throw malformed(`${this.name} ends inside a varint`);
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(result)) break;
        return result;
      }
      scale *= 128;
    }
    throw malformed(`${this.name} holds a varint out of range`);
  }

  varint(): number {
    this.expect(VARINT);
    return this.rawVarint();
  }

  bytes(): Uint8Array {
    this.expect(LENGTH_DELIMITED);
    const length = this.rawVarint();
    if (this.pos + length > this.buf.length) throw malformed(`${this.name} ends inside a field`);
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  string(): string {
    try {
      return FieldReader.decoder.decode(this.bytes());
    } catch (error) {
      if (error instanceof RaftError) throw error;
      throw malformed(`${this.name} holds a string that is not UTF-8`);
    }
  }

  skip(): void {
    switch (this.wireType) {
      case VARINT:
        this.rawVarint();
        return;
      case LENGTH_DELIMITED:
        this.bytes();
        return;
      case 1:
        this.advance(8);
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw malformed(`${this.name} holds wire type ${this.wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw malformed(`${this.name} ends inside a field`);
    this.pos += n;
  }

  private expect(wireType: number): void {
    if (this.wireType !== wireType) throw malformed(`${this.name} has a field of wire type ${this.wireType}`);
  }
}

class ByteWriter {
  private readonly parts: number[] = [];
  private static readonly encoder = new TextEncoder();

  varint(field: number, value: number): void {
    this.rawVarint((field << 3) | VARINT);
    this.rawVarint(value);
  }

  string(field: number, value: string): void {
    this.message(field, ByteWriter.encoder.encode(value));
  }

  message(field: number, bytes: Uint8Array): void {
    this.rawVarint((field << 3) | LENGTH_DELIMITED);
    this.rawVarint(bytes.length);
    for (const byte of bytes) this.parts.push(byte);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }

  private rawVarint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.parts.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.parts.push(v);
  }
}
