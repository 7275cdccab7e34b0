import { create } from '@bufbuild/protobuf';
import type { AppendRequest, Entry } from '@tsraft/core';
import { EntrySchema, EntryType, type Entry as ProtoEntry } from '@tsraft/proto';

/** The AppendEntries message both wire cases send, in both representations. */
export interface AppendFixture {
  readonly clusterId: string;
  /** The message as core produces it: plain objects, number terms and indexes. */
  readonly plain: AppendRequest;
  /** The same log entries as protobuf-es messages, as a core built on generated types would hold them. */
  readonly protoEntries: ProtoEntry[];
}

/**
 * Builds an AppendEntries of `entryCount` entries with `payloadBytes`-byte payloads, at realistic
 * positions (term 7, indexes above one million), from deterministic bytes.
 */
export function createAppendFixture(entryCount: number, payloadBytes: number): AppendFixture {
  const term = 7;
  const prevLogIndex = 1_000_255;
  const entries: Entry[] = [];
  for (let i = 1; i <= entryCount; i++) {
    const data = new Uint8Array(payloadBytes);
    for (let b = 0; b < payloadBytes; b++) data[b] = (i * 131 + b * 7) & 0xff;
    entries.push({ term, index: prevLogIndex + i, type: 'normal', data });
  }
  const plain: AppendRequest = {
    type: 'append',
    from: 'node-1',
    to: 'node-2',
    term,
    prevLogIndex,
    prevLogTerm: term,
    entries,
    commit: prevLogIndex,
  };
  const protoEntries = entries.map((e) =>
    create(EntrySchema, {
      term: BigInt(e.term),
      index: BigInt(e.index),
      type: EntryType.NORMAL,
      data: e.data,
    }),
  );
  return { clusterId: 'bench-cluster', plain, protoEntries };
}
